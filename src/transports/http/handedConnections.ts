// A cluster worker's side of sticky routing: its HTTP server serves the
// connections the primary passes on, with the bytes the primary read put back,
// as if it had accepted them itself. Every response closes its connection, so
// that each request of a SockJS session arrives on a connection of its own,
// which the primary routes by its session.
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HandedConnectionsOptions {
  /**
   * Whether a request's SockJS session lives on another worker. Only a request
   * on a kept-open connection can be such (the primary routes every first
   * request by its session), from a client that did not honour
   * `Connection: close`; it is closed unanswered, which a client retries.
   */
  readonly elsewhere: (req: IncomingMessage) => boolean;
}

export interface HandedConnections {
  /** Serves a connection the primary passed on, with the bytes it had read. */
  adopt(socket: Socket, received: Buffer): void;
}

/**
 * Makes `server` serve handed connections. It listens, for Node's sake, on a
 * Unix socket whose file is gone as soon as it listens, so that nothing can
 * connect to it: a server that never listened enforces no headersTimeout or
 * requestTimeout, and closes nothing on close().
 */
export async function serveHandedConnections(
  server: Server,
  options: HandedConnectionsOptions,
): Promise<HandedConnections> {
  const dir = await mkdtemp(join(tmpdir(), 'rx-streamer-worker-'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: join(dir, 'http.sock'), exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Unlinked at once: the server goes on listening, and nothing can connect to it.
  rmSync(dir, { recursive: true, force: true });

  // server.close() waits for the connections its listener accepted, and knows
  // nothing of handed ones: its callback waits for those too, so that closeServer
  // drains them exactly as it drains accepted ones.
  const open = new Set<Socket>();
  let drained: (() => void) | undefined;
  const close = server.close.bind(server);
  server.close = (callback?: (err?: Error) => void) => {
    close((err) => {
      const done = () => callback?.(err);
      if (open.size === 0) done();
      else drained = done;
    });
    return server;
  };

  // Requests reach the application only through this check.
  const listeners = server.listeners('request') as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (options.elsewhere(req)) {
      req.socket.destroy();
      return;
    }
    res.setHeader('Connection', 'close');
    for (const listener of listeners) listener.call(server, req, res);
  });

  return {
    adopt(socket, received) {
      if (socket.destroyed) return;
      open.add(socket);
      socket.once('close', () => {
        open.delete(socket);
        if (open.size > 0) return;
        const done = drained;
        drained = undefined;
        done?.();
      });
      // In front of anything this process has read from the socket already; paused
      // meanwhile, so that the server's listeners see the bytes in order.
      socket.pause();
      if (received.length > 0) socket.unshift(received);
      server.emit('connection', socket);
      socket.resume();
    },
  };
}
