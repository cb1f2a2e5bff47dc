// Closes an HTTP server without waiting out keep-alive timeouts: connections
// whose response has ended are closed as soon as they go idle, and whatever is
// still open when `drainMs` runs out (a client that stopped reading) is destroyed,
// with the connections the server does not track (streams on bare sockets)
// dropped by `destroyOthers`.
import type { Server } from 'node:http';

export function closeServer(
  server: Server,
  drainMs: number,
  destroyOthers: () => void = () => {},
  pollMs = 25,
): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) {
      server.closeAllConnections();
      destroyOthers();
      resolve();
      return;
    }
    // server.close() only closes the connections idle at that moment; streams
    // ended just before are still flushing their last bytes.
    const idle = setInterval(() => server.closeIdleConnections(), pollMs);
    const force = setTimeout(() => {
      server.closeAllConnections();
      destroyOthers();
    }, drainMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
