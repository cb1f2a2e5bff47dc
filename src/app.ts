// The server as a library builds it: the wiring (wireStreamer.ts) with the
// protocol modules PROTOCOLS picks among those given, every built-in one unless
// others are. Those come loaded together; the service (main.ts) imports only the
// ones it starts.
import { builtInProtocols } from './protocols/builtInProtocols.js';
import { selectProtocols } from './protocols/startProtocols.js';
import type { Streamer, StreamerDeps } from './Streamer.js';
import { wireStreamer } from './wireStreamer.js';

export type { Streamer, StreamerDeps } from './Streamer.js';

export function createStreamer(deps: StreamerDeps): Streamer {
  return wireStreamer({
    ...deps,
    protocols: selectProtocols(deps.config, deps.protocols ?? builtInProtocols()),
  });
}
