// Server-Sent Events over HTTP: opens a stream for a request, on the bare socket
// (the front door's path: a chunked head written by hand, nothing of Node's HTTP
// machinery kept) or on a ServerResponse, and hands the connection to the hub's
// family and topic. Headers and the first byte go out at once; HEAD ends there.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { connectionInfo } from '../../fanout/Connection.js';
import type { ConnectionInfo } from '../../fanout/Connection.js';
import type { Hub } from '../../fanout/Hub.js';
import type { StreamerError } from '../../core/errors.js';
import type { StreamRequest } from '../http/StreamRequest.js';
import { SseConnection } from './SseConnection.js';
import { sseComment } from './sseEncode.js';
import { httpChunk } from './sseFraming.js';
import type { EventIds } from './sseFraming.js';

/** The stream a request opens: what a protocol's resolver returns. */
export interface SseStream {
  readonly family: string;
  /** The family's topic ('' for a family with one topic). */
  readonly topic?: string;
  /** The stream's name in status reports; its path by default. */
  readonly namespace?: string;
  /** Written right after the headers; `:ok` by default, nothing when null. */
  readonly preamble?: Buffer | null;
  /** Gives the stream's events `id:` lines of its own: numbered, or from the ids given. */
  readonly eventIds?: boolean | EventIds;
  readonly headers?: Readonly<Record<string, string>>;
  /** Ends the stream this long after it opened (legacy forced refresh). */
  readonly maxAgeMs?: number;
  /** Told of the connection once it is open: to join more topics, or keep it. */
  readonly opened?: (connection: SseConnection) => void;
}

export interface SseTransportOptions {
  readonly hub: Hub;
  /** Headers every stream carries besides the SSE ones (CORS). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent to every stream when the server goes away (a retry line). */
  readonly farewell?: Buffer;
}

const OK = sseComment('ok');

export class SseTransport {
  private readonly hub: Hub;
  private readonly headers: Readonly<Record<string, string>>;
  /** The response head's header lines for a stream on a bare socket, with the default headers. */
  private readonly headerLines: string;
  private readonly farewell: Buffer | undefined;

  constructor(options: SseTransportOptions) {
    this.hub = options.hub;
    this.farewell = options.farewell;
    this.headers = {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      ...options.headers,
      'X-Accel-Buffering': 'no',
    };
    this.headerLines = headerLines(this.headers);
  }

  /**
   * Answers a GET on a bare socket (see http/frontDoor). `release` takes the
   * connection back when the server ends the stream, for the client's next
   * request. Returns undefined, with the socket untouched, once the hub is
   * closing: `open` answers such a request.
   */
  openOnSocket(
    socket: Socket,
    request: StreamRequest,
    stream: SseStream,
    release?: (socket: Socket, pending: Buffer | undefined) => void,
  ): SseConnection | undefined {
    if (this.hub.closing) return undefined;
    // Without `release` the client asked for `Connection: close`: the stream's end is the connection's.
    const lines =
      stream.headers || !release
        ? headerLines({
            ...this.headers,
            ...stream.headers,
            ...(release ? {} : { Connection: 'close' }),
          })
        : this.headerLines;
    const head = Buffer.from(
      `HTTP/1.1 200 OK\r\n${lines}Date: ${new Date().toUTCString()}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      'latin1',
    );
    const preamble = preambleOf(stream);
    socket.write(preamble ? Buffer.concat([head, httpChunk(preamble)]) : head);
    const info = infoOf(request, stream);
    const options = { farewell: this.farewell, eventIds: stream.eventIds };
    return this.opened(SseConnection.onSocket(socket, info, options, release), stream);
  }

  /**
   * Answers an SSE request through its response. A request pipelined behind
   * another response waits, as Node's server makes it, until that one is done:
   * its head and first byte wait in the response (counted by Node against the
   * socket's buffer, so a client piling up requests is read no further), and
   * its stream opens when the response gets the socket, never if the
   * connection closes first.
   */
  open(req: IncomingMessage, res: ServerResponse, request: StreamRequest, stream: SseStream) {
    // Node's reading of the request (HTTP/1.0, `Connection: close`) decides whether it stays open.
    const headers = {
      ...this.headers,
      ...stream.headers,
      Connection: res.shouldKeepAlive ? 'keep-alive' : 'close',
    };
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return undefined;
    }
    // A 200 that ends at once makes EventSource retry (elsewhere); an error status would not.
    if (this.hub.closing) {
      res.end(this.farewell ?? OK);
      return undefined;
    }
    // Headers and the first byte go out through the response, before the
    // connection decides whether it can write to the socket directly.
    const preamble = preambleOf(stream);
    if (preamble) res.write(preamble);
    else res.flushHeaders();
    if (res.socket !== null) return this.onResponse(req, res, request, stream);
    const socket = req.socket;
    const gone = () => res.off('socket', ready);
    const ready = () => {
      socket.off('close', gone);
      if (this.hub.closing) res.end(this.farewell ?? OK);
      else this.onResponse(req, res, request, stream);
    };
    res.once('socket', ready);
    socket.once('close', gone);
    return undefined;
  }

  private onResponse(
    req: IncomingMessage,
    res: ServerResponse,
    request: StreamRequest,
    stream: SseStream,
  ): SseConnection {
    const connection = SseConnection.onResponse(res, infoOf(request, stream), {
      farewell: this.farewell,
      eventIds: stream.eventIds,
    });
    releaseRequestState(req, res);
    return this.opened(connection, stream);
  }

  /**
   * Why the hub's bounds refuse a stream (MAX_CONNECTIONS, MAX_CONNECTIONS_PER_IP,
   * MAX_TOPICS): a 503 with Retry-After to answer instead; undefined when it may open.
   */
  refusal(request: StreamRequest, stream: SseStream): StreamerError | undefined {
    return this.hub.refusal(request.clientIp) ?? this.hub.topicRefusal(stream.family, stream.topic);
  }

  private opened(connection: SseConnection, stream: SseStream): SseConnection {
    this.hub.attach(connection, stream.maxAgeMs === undefined ? {} : { maxAgeMs: stream.maxAgeMs });
    // Refused only when other streams took the last topics since refusal() was asked.
    if (!this.hub.join(connection, stream.family, stream.topic ?? '')) connection.end();
    stream.opened?.(connection);
    return connection;
  }
}

/** The bytes a stream starts with, if any: never an empty chunk, which would end the body. */
function preambleOf(stream: SseStream): Buffer | undefined {
  const preamble = stream.preamble === undefined ? OK : stream.preamble;
  return preamble?.length ? preamble : undefined;
}

function infoOf(request: StreamRequest, stream: SseStream): ConnectionInfo {
  return connectionInfo({
    requestPath: request.path,
    namespace: stream.namespace ?? request.path,
    clientIp: request.clientIp,
    userAgent: request.header('user-agent'),
  });
}

function headerLines(headers: Readonly<Record<string, string>>): string {
  let out = '';
  for (const [name, value] of Object.entries(headers)) out += `${name}: ${value}\r\n`;
  return out;
}

/**
 * A stream outlives its request by hours: drop what the HTTP framework hung on
 * the request for routing (its `next` closures, parsed URLs, params), which the
 * stream never needs again. Measured at about a third of a connection's heap.
 */
function releaseRequestState(req: IncomingMessage, res: ServerResponse): void {
  const r = req as unknown as Record<string, unknown>;
  for (const key of [
    'next',
    'route',
    'params',
    'query',
    '_parsedUrl',
    '_parsedOriginalUrl',
    'body',
  ]) {
    if (Object.hasOwn(r, key)) r[key] = undefined;
  }
  const o = res as unknown as Record<string, unknown>;
  if (Object.hasOwn(o, 'locals')) o.locals = undefined;
}
