// One SSE client: where its bytes go, what it is, and how it ends. The hub
// decides what to write and when; a connection only writes what it is handed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

export interface SseConnectionInfo {
  readonly requestPath: string;
  readonly namespace: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly clientIp: string;
  readonly userAgent: string;
}

/** Counts messages handed out to a topic; a connection's count is the difference since it joined. */
export interface MessageCounter {
  readonly sent: number;
}

const CRLF = Buffer.from('\r\n');
/** The end of a chunked body. */
export const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** Bytes framed as one HTTP/1.1 chunk. */
export function httpChunk(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, CRLF]);
}

export class SseConnection {
  closed = false;
  /** When its unsent bytes went over the hub's bound; cleared when the socket drains. */
  overSince: number | undefined;
  private readonly joinedAt: number;
  private sentWhenClosed: number | undefined;

  private constructor(
    /** The socket (chunks framed by the hub) or, when it cannot be, the response. */
    private readonly out: Writable,
    /** Whether `out` takes pre-framed HTTP chunks rather than the SSE bytes. */
    readonly chunked: boolean,
    private readonly res: ServerResponse | undefined,
    readonly info: SseConnectionInfo,
    readonly family: string,
    readonly topic: string,
    private readonly counter: MessageCounter,
    /** For a bare socket: passes the connection on once the stream has ended. */
    private readonly release?: () => void,
  ) {
    this.joinedAt = counter.sent;
  }

  /**
   * A stream on a response whose headers are sent. When the response is chunked
   * and owns its socket (the usual case), the hub's pre-framed chunks go straight
   * to the socket, skipping ServerResponse's per-write framing and bookkeeping;
   * otherwise (HTTP/1.0, a pipelined request) the SSE bytes go through res.write.
   */
  static onResponse(
    res: ServerResponse,
    info: SseConnectionInfo,
    family: string,
    topic: string,
    counter: MessageCounter,
    /** Called once the stream is over, however it ends. */
    done: () => void,
  ): SseConnection {
    const socket = res.socket;
    // Node's own link from a socket to the response currently using it.
    const owner = (socket as { _httpMessage?: unknown } | null)?._httpMessage;
    const direct = socket !== null && res.headersSent && res.chunkedEncoding && owner === res;
    res.once('close', done);
    return direct
      ? new SseConnection(socket, true, res, info, family, topic, counter)
      : new SseConnection(res, false, res, info, family, topic, counter);
  }

  /**
   * A stream whose chunked response head the hub wrote on the bare socket. When
   * the server ends the stream, the connection stays open for the client's next
   * request (the response said keep-alive) and goes to `release`; without one,
   * it is closed. The client's end of the connection ends the stream, as in
   * Node's server; whatever the client sends after its request is read and dropped.
   */
  static onSocket(
    socket: Socket,
    info: SseConnectionInfo,
    family: string,
    topic: string,
    counter: MessageCounter,
    /** Called once the stream is over: its last bytes out, or the socket gone. */
    done: () => void,
    release?: (socket: Socket) => void,
  ): SseConnection {
    const onEnd = () => {
      connection.markClosed();
      socket.end();
    };
    // A reset is a client gone; 'close' follows.
    const onError = () => {};
    const handBack =
      release &&
      (() => {
        socket.off('end', onEnd).off('error', onError).off('finish', done).off('close', done);
        done();
        release(socket);
      });
    const connection = new SseConnection(
      socket,
      true,
      undefined,
      info,
      family,
      topic,
      counter,
      handBack,
    );
    socket.on('end', onEnd).on('error', onError).once('finish', done).once('close', done);
    socket.resume();
    return connection;
  }

  /** Messages this connection was handed. */
  get msgsSent(): number {
    return (this.sentWhenClosed ?? this.counter.sent) - this.joinedAt;
  }

  /** Whether the stream was answered on the bare socket, with no HTTP response object kept. */
  get onBareSocket(): boolean {
    return this.res === undefined;
  }

  /** Bytes written but not yet taken by the kernel. */
  get unsentBytes(): number {
    return this.out.writableLength;
  }

  /** Writes bytes (chunk-framed when `chunked`); returns the unsent bytes afterwards. */
  write(bytes: Buffer): number {
    if (this.closed) return 0;
    this.out.write(bytes);
    return this.out.writableLength;
  }

  /** Notes that the client is over its bound, until its socket drains. */
  markOver(now: number): number {
    if (this.overSince === undefined) {
      this.overSince = now;
      this.out.once('drain', () => (this.overSince = undefined));
    }
    return now - this.overSince;
  }

  /** Ends the stream after writing `last` (e.g. a retry line). */
  end(last?: Buffer): void {
    if (this.closed) return;
    this.markClosed();
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

  /** Drops the socket at once, discarding unsent bytes. */
  destroy(): void {
    this.markClosed();
    (this.res ?? this.out).destroy();
  }

  /** Stops counting: called when the stream ends, however it ends. */
  markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.sentWhenClosed = this.counter.sent;
  }
}

export function connectionInfo(req: IncomingMessage, namespace?: string): SseConnectionInfo {
  // Express keeps the full path in originalUrl and the proxy-aware address in ip.
  const { originalUrl, ip } = req as IncomingMessage & { originalUrl?: string; ip?: string };
  const requestPath = pathOf(originalUrl ?? req.url ?? '/');
  return streamInfo({
    requestPath,
    namespace: namespace ?? requestPath,
    clientIp: ip ?? req.socket.remoteAddress ?? '',
    userAgent: req.headers['user-agent'] ?? '',
  });
}

/** A stream's description, stamped now; IPv4-mapped addresses shown as IPv4. */
export function streamInfo(parts: Omit<SseConnectionInfo, 'createdAt'>): SseConnectionInfo {
  const ip = parts.clientIp;
  return {
    ...parts,
    createdAt: Date.now(),
    clientIp: ip.startsWith('::ffff:') ? ip.slice(7) : ip,
  };
}

/** A request target without its query. */
export function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}
