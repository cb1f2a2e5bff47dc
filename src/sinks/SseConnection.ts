// One SSE client. Messages arriving in the same event-loop turn are queued and
// written together at the end of the turn (one socket write); a client whose
// unsent bytes exceed the bound is dropped instead of growing memory.
import type { IncomingMessage, ServerResponse } from 'node:http';

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

  constructor(
    readonly res: ServerResponse,
    readonly info: SseConnectionInfo,
    readonly family: string,
    readonly topic: string,
  ) {}

  /** Queues bytes for this turn's write; true when the connection just became dirty. */
  enqueue(bytes: Buffer, isMessage = true): boolean {
    if (this.closed) return false;
    if (isMessage) this.pendingMessages++;
    const pending = this.pending;
    if (pending === undefined) {
      this.pending = bytes;
      return true;
    }
    if (Array.isArray(pending)) pending.push(bytes);
    else this.pending = [pending, bytes];
    return false;
  }

  /**
   * Writes what this turn queued. Node corks the socket for the tick, so several
   * buffers still leave as one writev. Returns the unsent bytes afterwards.
   */
  flush(): number {
    const pending = this.pending;
    this.pending = undefined;
    if (pending === undefined || this.closed) return 0;
    if (Array.isArray(pending)) {
      for (const b of pending) {
        this.res.write(b);
        this.bytesSent += b.length;
      }
    } else {
      this.res.write(pending);
      this.bytesSent += pending.length;
    }
    this.msgsSent += this.pendingMessages;
    this.pendingMessages = 0;
    return this.res.writableLength;
  }

  /** Notes that the client is over its bound, until its socket drains. */
  markOver(now: number): number {
    if (this.overSince === undefined) {
      this.overSince = now;
      this.res.once('drain', () => (this.overSince = undefined));
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
