// Listens on a port (0 picks a free one), resolving with the address or
// rejecting with the listen error (a busy port, say).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
