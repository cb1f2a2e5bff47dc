// Listens on a port (0 picks a free one), resolving with the address or
// rejecting with the listen error (a busy port, say).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../core/logger.js';

export function listen(
  server: Server,
  options: { readonly port: number; readonly host?: string; readonly backlog?: number },
): Promise<AddressInfo> {
  return new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** The line a started server logs: where a browser finds it, and what it serves. */
export function logListening(
  logger: Logger,
  host: string | undefined,
  port: number,
  fields: Readonly<Record<string, unknown>>,
): void {
  const shown = host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost';
  logger.info(`rx-streamer listening on http://${shown}:${port}/`, { port, ...fields });
}
