// The server as a library builds it: the wiring (wireStreamer.ts) with the
// protocol modules PROTOCOLS picks among those given, every built-in one unless
// others are, and a logger at LOG_LEVEL unless one is given. Those come loaded
// together; the service (main.ts) imports only the ones it starts.
import type { AddressInfo } from 'node:net';
import { createLogger } from './core/logger.js';
import { logListening } from './transports/http/listen.js';
import { builtInProtocols } from './protocols/builtInProtocols.js';
import { selectProtocols } from './protocols/startProtocols.js';
import type { Streamer, StreamerDeps } from './Streamer.js';
import { wireStreamer } from './wireStreamer.js';

export type { Streamer, StreamerDeps } from './Streamer.js';

export function createStreamer(deps: StreamerDeps): Streamer {
  const { config } = deps;
  // Visible by default: a server written from the README says where it listens and what fails.
  const logger = deps.logger ?? createLogger(config.logLevel, { node: config.nodeName });
  const streamer = wireStreamer({
    ...deps,
    logger,
    protocols: selectProtocols(config, deps.protocols ?? builtInProtocols()),
  });
  const listen = async (): Promise<AddressInfo> => {
    const address = await streamer.listen();
    logListening(logger, config.host, address.port, {
      protocols: [...streamer.protocols.keys()],
    });
    return address;
  };
  return { ...streamer, listen };
}
