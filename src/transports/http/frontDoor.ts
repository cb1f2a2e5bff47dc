// Serves long-lived streams on the bare socket. A stream outlives its request by
// hours, and Node's HTTP machinery (parser, IncomingMessage, ServerResponse, the
// framework's request state) would stay alive for all of it: Node's HTTP server
// alone measured about 13 KB a connection more than the socket's 8 KB, express
// several KB more. So the front door reads the first request on each new
// connection; a plain GET that `take` accepts is answered on the socket, and
// every other connection goes, with the bytes already read put back, to the
// HTTP server as if it had just arrived.
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
   * to the HTTP server; may decide asynchronously (a look-up, a token check),
   * while the socket is paused. Offered only HTTP/1.1 GETs with no body and no
   * upgrade. A taken connection whose response is complete but still open
   * (keep-alive) goes on to the HTTP server through `release` (absent when the
   * client asked for `Connection: close`), with what the client sent meanwhile
   * (a pipelined request), which the server then reads first. A throw or a
   * rejection counts as false, and is reported to `onError`.
   */
  readonly take: (
    head: RequestHead,
    socket: Socket,
    release: ((socket: Socket, pending: Buffer | undefined) => void) | undefined,
  ) => boolean | Promise<boolean>;
  /** Told of what `take` threw; the request goes to the HTTP server all the same. */
  readonly onError?: (error: unknown) => void;
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
  /** Connections still sending their first head, in arrival order, with their deadlines. */
  const waiting = new Map<Socket, { deadline: number; stop: () => void }>();
  let sweep: NodeJS.Timeout | undefined;

  const handOver = (socket: Socket, received: Buffer | undefined): void => {
    socket.pause();
    if (received) socket.unshift(received);
    for (const listener of serverListeners) listener.call(server, socket);
    socket.resume();
  };
  // A stream the server ended leaves its connection, and what came meanwhile, to the server.
  const release = handOver;

  // One timer for every connection's head deadline (a whole head within the
  // timeout, however slowly its bytes trickle in), like Node's own check.
  const headTimeoutMs = () => options.headTimeoutMs ?? server.headersTimeout;
  const sweepEvery = () => Math.max(10, Math.min(1_000, headTimeoutMs() / 4));
  const expire = () => {
    const now = Date.now();
    for (const [socket, entry] of waiting) {
      if (entry.deadline > now) break;
      entry.stop();
      closeWith(socket, TIMEOUT_RESPONSE);
    }
    if (waiting.size === 0) {
      clearInterval(sweep);
      sweep = undefined;
    }
  };

  server.on('connection', (socket: Socket) => {
    let received: HeadBytes | undefined = new HeadBytes(maxHeaderSize);
    const stop = () => {
      received = undefined;
      waiting.delete(socket);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('error', onEnd);
    };
    // Gone before its request was whole: nothing to answer.
    const onEnd = () => {
      stop();
      socket.destroy();
    };
    const onData = (chunk: Buffer) => {
      if (!received) return;
      const bytes = received.add(chunk);
      if (!prefixes.some((p) => couldBegin(bytes, p))) {
        stop();
        return handOver(socket, bytes);
      }
      const head = plainGetHead(bytes, maxHeaderSize, received.searchFrom);
      if (head === PARTIAL) return;
      stop();
      if (head === UNSUPPORTED) return handOver(socket, bytes);
      const keepAlive = !hasToken(head.headers.get('connection'), 'close');
      // Whatever follows the head waits in the socket until the stream or the server reads it.
      socket.pause();
      let taken: boolean | Promise<boolean>;
      try {
        taken = options.take(head, socket, keepAlive ? release : undefined);
      } catch (err) {
        options.onError?.(err);
        taken = false;
      }
      if (!(taken instanceof Promise)) {
        if (!taken) handOver(socket, bytes);
        return;
      }
      // A client that resets while its stream is decided is gone, not an error.
      const ignore = () => {};
      socket.on('error', ignore);
      const decided = (yes: boolean) => {
        socket.off('error', ignore);
        if (socket.destroyed) return;
        if (!yes) handOver(socket, bytes);
      };
      taken.then(decided, (err: unknown) => {
        options.onError?.(err);
        decided(false);
      });
    };
    waiting.set(socket, { deadline: Date.now() + headTimeoutMs(), stop });
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
    if (headTimeoutMs() > 0) sweep ??= setInterval(expire, sweepEvery()).unref();
  });

  return {
    destroyWaiting: () => {
      for (const [socket, entry] of waiting) {
        entry.stop();
        socket.destroy();
      }
    },
  };
}

/** Answers and closes a connection the server will not serve. */
function closeWith(socket: Socket, response: string): void {
  // The client may reset instead of reading: that is not the server's error.
  socket.on('error', () => {});
  socket.end(response, () => socket.destroy());
}

/** Whether a comma-separated header value (`Connection`) lists a token, in any case. */
function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  return value.split(',').some((t) => t.trim().toLowerCase() === token);
}

/**
 * The head the front door offers `take`, from the bytes received so far: a
 * whole HTTP/1.1 GET that a response on the socket can answer completely, with
 * nothing after it (a pipelined request stays with Node's server, which
 * answers in order), no body, no upgrade. Whatever it returns as a head, Node's
 * parser reads the same way (the property test in test/security pins that).
 */
export function plainGetHead(
  bytes: Buffer,
  maxBytes: number,
  searchFrom = 0,
): RequestHead | typeof PARTIAL | typeof UNSUPPORTED {
  const head = parseRequestHead(bytes, maxBytes, searchFrom);
  if (head === PARTIAL || head === UNSUPPORTED) return head;
  const h = head.headers;
  const plain =
    head.length === bytes.length &&
    head.method === 'GET' &&
    head.version === '1.1' &&
    h.has('host') &&
    // Browsers send no body framing on a GET; Node reads some of it (`0\t`) as an error.
    !h.has('content-length') &&
    !h.has('transfer-encoding') &&
    !h.has('upgrade') &&
    !h.has('expect');
  return plain ? head : UNSUPPORTED;
}
