// The cluster primary's door (WORKERS > 1): it owns the listening socket, reads
// each new connection's request line and no further, and passes the connection
// on, stopped, with the bytes read so far and the SockJS session its target names.
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { sessionIdOf } from './sessionRoute.js';

export interface RouteConnectionsOptions {
  readonly port: number;
  readonly host?: string;
  readonly backlog?: number;
  /** Time a new connection has to send its request line. */
  readonly lineTimeoutMs: number;
  /** Bytes a request line may take before the connection is refused with 431. */
  readonly maxLineBytes: number;
  /**
   * Takes a connection that no longer reads, with what it sent so far (its
   * request line and whatever came with it) and the session id its target
   * names. Its handle is then fit to send to another process.
   */
  readonly route: (socket: Socket, received: Buffer, sessionId: string | undefined) => void;
}

export interface ConnectionRouter {
  readonly address: AddressInfo;
  /** Stops accepting, and drops the connections whose request line has not come yet. */
  close(): void;
}

const TIMEOUT_RESPONSE =
  'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const TOO_LARGE_RESPONSE =
  'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const LF = 0x0a;

/** Listens and routes; rejects with the listen error (a busy port, say). */
export function routeConnections(options: RouteConnectionsOptions): Promise<ConnectionRouter> {
  /** Connections still sending their request line, in arrival order, with their deadlines. */
  const waiting = new Map<Socket, { deadline: number; stop: () => void; received: number }>();
  let sweep: NodeJS.Timeout | undefined;
  const expire = () => {
    const now = Date.now();
    for (const [socket, entry] of waiting) {
      if (entry.deadline > now) break;
      entry.stop();
      // A connection that sent nothing may be a browser's preconnect: closed without
      // an answer, which it would otherwise read as the answer to its first request.
      if (entry.received === 0) socket.destroy();
      else closeWith(socket, TIMEOUT_RESPONSE);
    }
    if (waiting.size === 0) {
      clearInterval(sweep);
      sweep = undefined;
    }
  };

  const server: Server = createServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
    const chunks: Buffer[] = [];
    const entry = { deadline: Date.now() + options.lineTimeoutMs, stop, received: 0 };
    function stop(): void {
      waiting.delete(socket);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('error', onEnd);
    }
    // Gone before its request line: nothing to answer.
    function onEnd(): void {
      stop();
      socket.destroy();
    }
    function onData(chunk: Buffer): void {
      chunks.push(chunk);
      entry.received += chunk.length;
      const lineEnd = chunk.indexOf(LF);
      if (lineEnd === -1) {
        if (entry.received < options.maxLineBytes) return;
        stop();
        return closeWith(socket, TOO_LARGE_RESPONSE);
      }
      stop();
      stopReading(socket);
      const received = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      const line = received.toString('latin1', 0, entry.received - chunk.length + lineEnd);
      options.route(socket, received, sessionIdOf(line.split(' ')[1] ?? ''));
    }
    waiting.set(socket, entry);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
    // pauseOnConnect: nothing is read until now.
    socket.resume();
    sweep ??= setInterval(expire, Math.max(10, Math.min(1_000, options.lineTimeoutMs / 4)));
    sweep.unref();
  });

  return new Promise<ConnectionRouter>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host, backlog: options.backlog }, () => {
      server.off('error', reject);
      resolve({
        address: server.address() as AddressInfo,
        close: () => {
          server.close();
          clearInterval(sweep);
          for (const [socket, entry] of waiting) {
            entry.stop();
            socket.destroy();
          }
        },
      });
    });
  });
}

/** What the TCP handle under a net.Socket offers: libuv's uv_read_stop. */
interface StreamHandle {
  readStop(): number;
}

/**
 * Stops a socket reading from the kernel, so that what the client sends next
 * waits there for the process the socket goes to. pause() cannot: a paused
 * socket goes on reading into its buffer, and child_process.send() drops what
 * the handle reads between the send and its close. The handle is private
 * (`_handle`); the `reading` flag is left set so that Node, believing a read
 * is under way, does not start another (test/unit/routeConnections.test.ts
 * pins this, and the delayed POST body in test/ops/stickySessions.test.ts).
 */
export function stopReading(socket: Socket): void {
  socket.pause();
  const handle = (socket as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
  if (typeof handle?.readStop !== 'function') {
    throw new Error('net.Socket has no _handle.readStop(): sticky routing needs a new stopReading');
  }
  handle.readStop();
}

/** Answers and closes a connection that will not be routed. */
function closeWith(socket: Socket, response: string): void {
  // The client may reset instead of reading: that is not the server's error.
  socket.on('error', () => {});
  socket.end(response, () => socket.destroy());
}
