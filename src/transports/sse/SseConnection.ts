// One SSE client: a stream on a bare socket (its chunked head written by the
// transport) or on a ServerResponse. Either way the hub's framed bytes go out in
// one write; what differs is how the stream ends.
import { maxHeaderSize } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Connection } from '../../fanout/Connection.js';
import type { ConnectionInfo } from '../../fanout/Connection.js';
import {
  LAST_CHUNK,
  SSE_CHUNKED,
  SSE_PLAIN,
  eventIds,
  httpChunk,
  numberedEvents,
} from './sseFraming.js';
import type { EventIds } from './sseFraming.js';

export interface SseConnectionOptions {
  /** Written last when the server goes away (a retry line). */
  readonly farewell?: Buffer | undefined;
  /**
   * Gives every event an `id:` line of this connection's own: numbered
   * (`true`, see numberedEvents), or from the given ids (see eventIds).
   */
  readonly eventIds?: boolean | EventIds | undefined;
  /** For a bare socket: how much of a pipelined request is kept while the stream runs. */
  readonly maxPendingBytes?: number | undefined;
}

/** Node's own bound on a request head. */
const DEFAULT_MAX_PENDING = maxHeaderSize;

export class SseConnection extends Connection {
  private constructor(
    info: ConnectionInfo,
    /** The socket (chunks framed by the hub) or, when it cannot be, the response. */
    out: Socket | ServerResponse,
    private readonly res: ServerResponse | undefined,
    options: SseConnectionOptions,
    /** For a bare socket: passes the connection on once the stream has ended. */
    private readonly release: (() => void) | undefined,
  ) {
    const base = out === res ? SSE_PLAIN : SSE_CHUNKED;
    const ids = options.eventIds;
    super(
      info,
      typeof ids === 'function' ? eventIds(base, ids) : ids ? numberedEvents(base) : base,
      out,
    );
    this.farewell = options.farewell;
  }

  /** Written last when the server goes away (a retry line). */
  private readonly farewell: Buffer | undefined;

  /**
   * A stream on a response whose headers are sent. When the response is chunked
   * and owns its socket (the usual case), the hub's pre-framed chunks go straight
   * to the socket, skipping ServerResponse's per-write framing and bookkeeping;
   * otherwise (HTTP/1.0, a pipelined request) the SSE bytes go through res.write.
   */
  static onResponse(
    res: ServerResponse,
    info: ConnectionInfo,
    options: SseConnectionOptions = {},
  ): SseConnection {
    const socket = res.socket;
    // Node's own link from a socket to the response currently using it (pinned
    // by the front door tests: a stream on a reused connection).
    const owner = (socket as { _httpMessage?: unknown } | null)?._httpMessage;
    const direct = socket !== null && res.headersSent && res.chunkedEncoding && owner === res;
    const connection = new SseConnection(info, direct ? socket : res, res, options, undefined);
    res.once('close', () => connection.finished());
    return connection;
  }

  /**
   * A stream whose chunked response head the transport wrote on the bare socket.
   * When the server ends the stream, the connection stays open for the client's
   * next request (the response said keep-alive) and goes to `release`; without
   * one, it is closed. The client's end of the connection ends the stream, as
   * in Node's server. What the client sends after its request (a pipelined
   * request) is kept, up to `maxPendingBytes`, and handed on with the
   * connection, so the server answers it after the stream as Node's would; past
   * the bound the socket is read no further until then. On a connection that
   * ends with the stream there is nothing to answer it on, and it is dropped.
   */
  static onSocket(
    socket: Socket,
    info: ConnectionInfo,
    options: SseConnectionOptions = {},
    release?: (socket: Socket, pending: Buffer | undefined) => void,
  ): SseConnection {
    const onEnd = () => {
      connection.stopWriting();
      socket.end();
    };
    // A reset is a client gone; 'close' follows.
    const onError = () => {};
    const done = () => connection.finished();
    let pending: Buffer[] | undefined;
    let pendingBytes = 0;
    const maxPending = options.maxPendingBytes ?? DEFAULT_MAX_PENDING;
    const onData = (chunk: Buffer) => {
      if (!release) return;
      (pending ??= []).push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= maxPending) socket.pause();
    };
    const handBack =
      release &&
      (() => {
        socket.off('end', onEnd).off('error', onError).off('finish', done).off('close', done);
        socket.off('data', onData);
        connection.finished();
        release(socket, pending && Buffer.concat(pending));
      });
    const connection = new SseConnection(info, socket, undefined, options, handBack);
    socket.on('end', onEnd).on('error', onError).once('finish', done).once('close', done);
    socket.on('data', onData).resume();
    return connection;
  }

  /** Whether the stream was answered on the bare socket, with no HTTP response object kept. */
  get onBareSocket(): boolean {
    return this.res === undefined;
  }

  /** Ends the stream; a server going away first sends its farewell (a retry line). */
  end(goingAway = false): void {
    if (this.closed) return;
    const last = goingAway ? this.farewell : undefined;
    this.stopWriting();
    if (this.res) {
      if (last) this.res.end(last);
      else this.res.end();
      return;
    }
    const tail = last ? Buffer.concat([httpChunk(last), LAST_CHUNK]) : LAST_CHUNK;
    if (this.release) {
      this.out.write(tail);
      this.release();
    } else {
      this.out.end(tail);
    }
  }

  destroy(): void {
    this.stopWriting();
    (this.res ?? this.out).destroy();
  }
}
