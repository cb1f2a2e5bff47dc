// Serves long-lived streams on the bare socket. A stream outlives its request by
// hours, and Node's HTTP machinery (parser, IncomingMessage, ServerResponse,
// the framework's request state) would stay alive for all of it: Node's HTTP
// server alone measured about 13 KB a connection more than the socket's 8 KB,
// express several KB more. So the front door reads the
// first request on each new connection; a plain GET that `take` accepts is
// answered on the socket, and every other connection goes, with the bytes
// already read put back, to the HTTP server as if it had just arrived.
import { maxHeaderSize } from 'node:http';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { HeadBytes, PARTIAL, UNSUPPORTED, couldBegin, parseRequestHead } from './requestHead.js';
import type { RequestHead } from './requestHead.js';

export interface FrontDoorOptions {
  /**
   * Request-line beginnings worth reading a whole head for (`GET /subscribe/`):
   * a connection whose first bytes begin none of them goes to the server at once.
   */
  readonly prefixes: readonly string[];
  /**
   * Answers a GET on the socket and returns true, or returns false to leave it
   * to the HTTP server. Offered only HTTP/1.1 GETs with no body and no upgrade.
   * A taken connection whose response is complete but still open (keep-alive)
   * goes on to the HTTP server through `release`.
   */
  readonly take: (head: RequestHead, socket: Socket, release: (socket: Socket) => void) => boolean;
  /** Time to receive a whole head; the default is the server's headersTimeout. */
  readonly headTimeoutMs?: number;
}

const TIMEOUT_RESPONSE =
  'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

export interface FrontDoor {
  /** Drops the connections whose first request has not arrived yet (at shutdown). */
  destroyWaiting(): void;
}

/** Puts the front door before the server's own connection handling. */
export function frontDoor(server: Server, options: FrontDoorOptions): FrontDoor {
  // An http.Server handles connections in its 'connection' listener; injecting a
  // socket by calling it is the documented way to hand the server a connection.
  const serverListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const prefixes = options.prefixes.map((p) => Buffer.from(p, 'latin1'));
  const waiting = new Set<Socket>();

  const handOver = (socket: Socket, received: Buffer | undefined): void => {
    socket.pause();
    if (received) socket.unshift(received);
    for (const listener of serverListeners) listener.call(server, socket);
    socket.resume();
  };
  // A stream the server ended leaves its connection to the server, for the next request.
  const release = (socket: Socket): void => handOver(socket, undefined);

  server.on('connection', (socket: Socket) => {
    let received: HeadBytes | undefined = new HeadBytes(maxHeaderSize);
    const done = () => {
      received = undefined;
      waiting.delete(socket);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('error', onError);
      socket.removeListener('timeout', onTimeout);
      socket.setTimeout(0);
    };
    // Gone before its request was whole: nothing to answer.
    const onEnd = () => {
      done();
      socket.destroy();
    };
    const onError = onEnd;
    const onTimeout = () => {
      done();
      socket.end(TIMEOUT_RESPONSE);
    };
    const onData = (chunk: Buffer) => {
      if (!received) return;
      const bytes = received.add(chunk);
      if (!prefixes.some((p) => couldBegin(bytes, p))) {
        done();
        return handOver(socket, bytes);
      }
      const head = parseRequestHead(bytes, maxHeaderSize, received.searchFrom);
      if (head === PARTIAL) return;
      done();
      if (head === UNSUPPORTED || !plainGet(head) || !options.take(head, socket, release)) {
        handOver(socket, bytes);
      }
    };
    waiting.add(socket);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('timeout', onTimeout);
    const headTimeoutMs = options.headTimeoutMs ?? server.headersTimeout;
    if (headTimeoutMs > 0) socket.setTimeout(headTimeoutMs);
  });

  return {
    destroyWaiting: () => {
      for (const socket of waiting) socket.destroy();
      waiting.clear();
    },
  };
}

/** A GET that a response on the socket can answer completely: no body to read, no upgrade. */
function plainGet(head: RequestHead): boolean {
  const h = head.headers;
  return (
    head.method === 'GET' &&
    head.version === '1.1' &&
    !h.has('transfer-encoding') &&
    (h.get('content-length') ?? '0') === '0' &&
    !h.has('upgrade') &&
    !h.has('expect')
  );
}
