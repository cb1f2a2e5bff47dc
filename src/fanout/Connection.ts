// One client of the hub, whatever its transport: where its bytes go, what it
// is, which topics it is in and what it was sent. The hub decides what to write
// and when; a transport's connection decides how a stream starts and ends.
import type { Writable } from 'node:stream';
import type { Framing } from './framing.js';

export interface ConnectionInfo {
  readonly requestPath: string;
  /** The stream's name in status reports (`/eps`, `/details/1F602`). */
  readonly namespace: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly clientIp: string;
  readonly userAgent: string;
}

/** User-Agents are kept this long at most, so memory per client does not depend on them. */
export const MAX_USER_AGENT = 256;

/**
 * A string that holds no other: V8 makes a slice (or a regular expression's
 * match) of a long string a view that keeps the whole parent alive, so a path
 * sliced from a 16 KB request target would keep all 16 KB for the stream's
 * life. A copy through a buffer is flat. Short strings are copied by V8 anyway.
 */
export function ownCopy(s: string): string {
  if (s.length < 13) return s;
  // Latin-1 text (every header and target) stays one byte a character.
  return isLatin1(s)
    ? Buffer.from(s, 'latin1').toString('latin1')
    : Buffer.from(s, 'utf16le').toString('utf16le');
}

function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/** A connection's description as it is kept for its life: copies of its own, the User-Agent cut short. */
export function connectionInfo(fields: {
  readonly requestPath: string;
  readonly namespace: string;
  readonly clientIp: string;
  readonly userAgent: unknown;
}): ConnectionInfo {
  const requestPath = ownCopy(fields.requestPath);
  return {
    requestPath,
    namespace: fields.namespace === fields.requestPath ? requestPath : ownCopy(fields.namespace),
    createdAt: Date.now(),
    clientIp: ownCopy(fields.clientIp),
    userAgent: ownCopy(
      (typeof fields.userAgent === 'string' ? fields.userAgent : '').slice(0, MAX_USER_AGENT),
    ),
  };
}

/** The hub's bound on what a client may hold unsent, which its own sends are checked against too. */
export interface SendBound {
  readonly maxBufferBytes: number;
  /** Told that a write left the client over the bound: it is marked, and dropped when too slow. */
  over(connection: Connection, unsent: number): void;
}

export abstract class Connection {
  closed = false;
  /** Messages written to this connection, over all its topics. */
  msgsSent = 0;
  /** When its unsent bytes went over the hub's bound; cleared when the socket drains. */
  overSince: number | undefined;
  /** The service it was attached for (see AttachOptions.service); set by the hub. */
  service: string | undefined;
  /** What a protocol adds to the connection's entry in the status document (its channels, say). */
  describe: (() => Readonly<Record<string, unknown>>) | undefined;
  /** Told once when the stream is over, however it ends (set by the hub). */
  onClosed: (() => void) | undefined;
  /** The hub's bound (set when attached). */
  bound: SendBound | undefined;
  private endListeners: (() => void)[] | undefined;
  private over = false;

  protected constructor(
    readonly info: ConnectionInfo,
    readonly framing: Framing,
    /** Where framed bytes are written. */
    protected readonly out: Writable,
  ) {}

  /** Bytes written but not yet taken by the kernel. */
  get unsentBytes(): number {
    return this.out.writableLength;
  }

  /** Runs `listener` once the stream is over (at once if it is): a protocol's own clean-up. */
  whenEnded(listener: () => void): void {
    if (this.over) listener();
    else (this.endListeners ??= []).push(listener);
  }

  /** Writes framed bytes; returns the unsent bytes afterwards. */
  write(bytes: Buffer): number {
    if (this.closed) return 0;
    this.out.write(bytes);
    return this.out.writableLength;
  }

  /**
   * Frames encoded messages in the connection's own framing and writes them (a
   * status event, a control reply), bounded like the hub's own writes: a client
   * that does not read what it is sent this way is dropped all the same.
   * `messages`: what the parts were encoded from, for a framing of the
   * connection's own (see Framing.frame).
   */
  send(parts: readonly Buffer[], messages?: readonly unknown[]): number {
    const unsent = this.write(this.framing.frame(parts, messages));
    if (this.bound && unsent > this.bound.maxBufferBytes) this.bound.over(this, unsent);
    return unsent;
  }

  /** Notes that the client is over its bound, until its socket drains; returns for how long. */
  markOver(now: number): number {
    if (this.overSince === undefined) {
      this.overSince = now;
      this.out.once('drain', () => (this.overSince = undefined));
    }
    return now - this.overSince;
  }

  /**
   * Ends the stream the transport's way. `goingAway`: the server is shutting
   * down, so tell the client to come back (an SSE retry line, a WebSocket 1001).
   */
  abstract end(goingAway?: boolean): void;

  /** Drops the connection at once, discarding unsent bytes. */
  abstract destroy(): void;

  /** Writes nothing more, e.g. once the client has half-closed. */
  protected stopWriting(): void {
    this.closed = true;
  }

  /** Marks the stream over and tells the hub, once. */
  protected finished(): void {
    this.closed = true;
    if (this.over) return;
    this.over = true;
    const onClosed = this.onClosed;
    const ended = this.endListeners;
    this.onClosed = undefined;
    this.endListeners = undefined;
    onClosed?.();
    if (ended) for (const listener of ended) listener();
  }
}
