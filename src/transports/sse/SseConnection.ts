// One SSE client: a stream on a bare socket (its chunked head written by the
// transport) or on a ServerResponse. Either way the hub's framed bytes go out in
// one write; what differs is how the stream ends.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Connection } from '../../fanout/Connection.js';
import type { ConnectionInfo } from '../../fanout/Connection.js';
import { LAST_CHUNK, SSE_CHUNKED, SSE_PLAIN, httpChunk, numberedEvents } from './sseFraming.js';

export interface SseConnectionOptions {
  /** Written last when the server goes away (a retry line). */
  readonly farewell?: Buffer | undefined;
  /** Numbers every event with an `id:` line of this connection's own (see numberedEvents). */
  readonly eventIds?: boolean | undefined;
}

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
    super(info, options.eventIds ? numberedEvents(base) : base, out);
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
   * in Node's server; whatever the client sends after its request is read and dropped.
   */
  static onSocket(
    socket: Socket,
    info: ConnectionInfo,
    options: SseConnectionOptions = {},
    release?: (socket: Socket) => void,
  ): SseConnection {
    const onEnd = () => {
      connection.stopWriting();
      socket.end();
    };
    // A reset is a client gone; 'close' follows.
    const onError = () => {};
    const done = () => connection.finished();
    const handBack =
      release &&
      (() => {
        socket.off('end', onEnd).off('error', onError).off('finish', done).off('close', done);
        connection.finished();
        release(socket);
      });
    const connection = new SseConnection(info, socket, undefined, options, handBack);
    socket.on('end', onEnd).on('error', onError).once('finish', done).once('close', done);
    socket.resume();
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
