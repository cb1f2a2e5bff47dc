// One SSE client. Messages arriving in the same event-loop turn are queued and
// written together at the end of the turn (one socket write); a client whose
// unsent bytes exceed the bound is dropped instead of growing memory.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A message as it goes on the wire: the SSE bytes, and the same bytes framed as
 * one HTTP/1.1 chunk. Both are made once per message and shared by every client.
 */
export interface WireMessage {
  readonly raw: Buffer;
  readonly chunk: Buffer;
}

const CRLF = Buffer.from('\r\n');

export function wireMessage(raw: Buffer): WireMessage {
  return { raw, chunk: Buffer.concat([Buffer.from(`${raw.length.toString(16)}\r\n`), raw, CRLF]) };
}

export interface SseConnectionInfo {
  readonly requestPath: string;
  readonly namespace: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly clientIp: string;
  readonly userAgent: string;
}

export class SseConnection {
  msgsSent = 0;
  bytesSent = 0;
  closed = false;
  /** When its unsent bytes went over the hub's bound; cleared when the socket drains. */
  overSince: number | undefined;
  /** Bytes waiting for the end of this turn: one buffer, or several in order. */
  private pending: Buffer | Buffer[] | undefined;
  private pendingMessages = 0;
  /**
   * Set when the response is chunked and owns its socket (the usual case): the
   * pre-framed chunks then go straight to the socket, skipping ServerResponse's
   * per-write framing and bookkeeping. Otherwise (HTTP/1.0, a pipelined request)
   * the raw bytes go through res.write.
   */
  private readonly socket: Socket | undefined;

  constructor(
    readonly res: ServerResponse,
    readonly info: SseConnectionInfo,
    readonly family: string,
    readonly topic: string,
  ) {
    const socket = res.socket;
    // Node's own link from a socket to the response currently using it.
    const owner = (socket as { _httpMessage?: unknown } | null)?._httpMessage;
    const direct = socket !== null && res.headersSent && res.chunkedEncoding && owner === res;
    this.socket = direct ? socket : undefined;
  }

  /** Queues a message for this turn's write; true when the connection just became dirty. */
  enqueue(message: WireMessage, isMessage = true): boolean {
    if (this.closed) return false;
    if (isMessage) this.pendingMessages++;
    const bytes = this.socket ? message.chunk : message.raw;
    const pending = this.pending;
    if (pending === undefined) {
      this.pending = bytes;
      return true;
    }
    if (Array.isArray(pending)) pending.push(bytes);
    else this.pending = [pending, bytes];
    return false;
  }

  /** Writes what this turn queued, as one writev. Returns the unsent bytes afterwards. */
  flush(): number {
    const pending = this.pending;
    this.pending = undefined;
    if (pending === undefined || this.closed) return 0;
    const out = this.socket ?? this.res;
    if (Array.isArray(pending)) {
      out.cork();
      for (const b of pending) {
        out.write(b);
        this.bytesSent += b.length;
      }
      out.uncork();
    } else {
      out.write(pending);
      this.bytesSent += pending.length;
    }
    this.msgsSent += this.pendingMessages;
    this.pendingMessages = 0;
    return out.writableLength;
  }

  /** Notes that the client is over its bound, until its socket drains. */
  markOver(now: number): number {
    if (this.overSince === undefined) {
      this.overSince = now;
      (this.socket ?? this.res).once('drain', () => (this.overSince = undefined));
    }
    return now - this.overSince;
  }

  /** Ends the stream after writing `last` (e.g. a retry line); releases what it held. */
  end(last?: Buffer): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    if (last) this.res.end(last);
    else this.res.end();
  }

  /** Drops the socket at once, discarding unsent bytes. */
  destroy(): void {
    this.closed = true;
    this.pending = undefined;
    this.res.destroy();
  }
}

export function connectionInfo(req: IncomingMessage, namespace?: string): SseConnectionInfo {
  // Express keeps the full path in originalUrl and the proxy-aware address in ip.
  const { originalUrl, ip: proxiedIp } = req as IncomingMessage & {
    originalUrl?: string;
    ip?: string;
  };
  const url = originalUrl ?? req.url ?? '/';
  const q = url.indexOf('?');
  const requestPath = q === -1 ? url : url.slice(0, q);
  const ip = proxiedIp ?? req.socket.remoteAddress ?? '';
  return {
    requestPath,
    namespace: namespace ?? requestPath,
    createdAt: Date.now(),
    clientIp: ip.startsWith('::ffff:') ? ip.slice(7) : ip,
    userAgent: req.headers['user-agent'] ?? '',
  };
}
