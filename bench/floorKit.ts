// What every floor shares: the least a Node process can do to serve SSE on raw
// sockets. A fixed response head, HTTP chunk framing as Node writes it, one
// socket listener that reads the request line, and the stats the runner asks for.
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { send } from './ipc.js';
import type { StatsRequest } from './ipc.js';

/** One HTTP/1.1 chunk, as Node frames each `res.write()` of a chunked response. */
export function chunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

/** The head of an SSE response, then `first` (the stream's first bytes) as its first chunk. */
export function sseHead(first: string): string {
  return (
    'HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\n' +
    'Content-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n' +
    `Connection: keep-alive\r\nX-Accel-Buffering: no\r\nDate: ${new Date().toUTCString()}\r\n` +
    `Transfer-Encoding: chunked\r\n\r\n${chunk(first)}`
  );
}

export const NOT_FOUND = 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

export interface FloorServer {
  /** Serves a stream for the request target, or answers and returns false. */
  route(socket: Socket, target: string): void;
  /** Starts the in-process traffic; returns a function that stops it. */
  start(): () => void;
  stats(): { sent: number; connections: number; maxBuffered: number };
}

/** Listens on a free loopback port and serves the runner's IPC until it says stop. */
export function serveFloor(floor: FloorServer): void {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    // The benchmark client sends its request in one write.
    socket.once('data', (request: Buffer) => {
      const line = request.toString('latin1', 0, Math.max(0, request.indexOf('\r\n')));
      floor.route(socket, line.split(' ')[1] ?? '');
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const stop = floor.start();
    process.on('message', (message: StatsRequest) => {
      if (message.type === 'stats') send({ type: 'stats', stats: { ...floor.stats(), errors: 0 } });
      else {
        stop();
        process.exit(0);
      }
    });
    send({ type: 'listening', port: (server.address() as { port: number }).port });
  });
  process.on('disconnect', () => process.exit(0));
}
