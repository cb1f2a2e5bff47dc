// The clients of one topic of a family, and what was queued for them. A turn's
// messages are encoded once per encoding and framed once per framing its
// clients use, and those same bytes go to every client in one write each: the
// work per message does not grow with the number of clients. A large topic is
// written a slice at a time (see TopicWriter), so a turn stays in `writing`
// until its last client has it. A client may be held (see hold()): it is in
// the topic, but what arrives is kept for it instead of written, until the
// hub releases it with what it missed (recovery on reconnect).
import type { Connection } from './Connection.js';
import type { Encoders, Framing } from './framing.js';

/** Told of each client that a write left over the hub's bound, with its unsent bytes. */
export type OverBound = (connection: Connection, unsent: number) => void;

/** Told of a message an encoder threw on; the message is left out. */
export type EncodeFailed = (topic: Topic, error: unknown) => void;

/** What a held client is given when it is released: the messages that arrived for it meanwhile. */
export type Release = (messages: readonly unknown[], overflowed: boolean) => void;

interface Held {
  readonly messages: unknown[];
  /** More arrived than the hold keeps: the client cannot be given all it missed. */
  overflowed: boolean;
  /** Set once the hub releases it while messages were still queued (see release()). */
  release: Release | undefined;
}

class Turn {
  private readonly encoded = new Map<string, Buffer[]>();
  /** Per encoding, the messages whose parts were encoded, when an encoder threw on some. */
  private encodedFrom: Map<string, unknown[]> | undefined;
  private readonly framed = new Map<Framing, Buffer>();
  private lastFraming: Framing | undefined;
  private lastBytes: Buffer | undefined;

  /**
   * `messages` are the turn's messages, or, with `encodedAs`, their bytes in
   * that encoding, encoded as they arrived (see Topic.add()).
   */
  constructor(
    private readonly topic: Topic,
    private readonly messages: readonly unknown[],
    readonly clients: readonly Connection[],
    private readonly encodedAs?: string,
  ) {
    if (encodedAs !== undefined) this.encoded.set(encodedAs, messages as Buffer[]);
  }

  next = 0;

  get count(): number {
    return this.messages.length;
  }

  /** The turn's bytes in a framing: encoded and framed the first time a client needs them. */
  bytesFor(framing: Framing): Buffer {
    if (framing === this.lastFraming) return this.lastBytes as Buffer;
    if (framing.perConnection) {
      const parts = this.encode(framing.encoding);
      // Encoded on arrival, the messages are gone: the family said its framings need none.
      const from =
        this.encodedAs === undefined
          ? (this.encodedFrom?.get(framing.encoding) ?? this.messages)
          : undefined;
      return framing.frame(parts, from);
    }
    let bytes = this.framed.get(framing);
    if (!bytes) {
      bytes = framing.frame(this.encode(framing.encoding));
      this.framed.set(framing, bytes);
    }
    this.lastFraming = framing;
    this.lastBytes = bytes;
    return bytes;
  }

  private encode(encoding: string): Buffer[] {
    const parts = this.encoded.get(encoding);
    if (parts) return parts;
    const encoded = encodeAll(this.topic, encoding, this.messages);
    this.encoded.set(encoding, encoded.parts);
    if (encoded.from !== this.messages)
      (this.encodedFrom ??= new Map()).set(encoding, encoded.from);
    return encoded.parts;
  }
}

/**
 * Messages in an encoding, and the messages they came from (the same array
 * unless an encoder threw on some, which are left out and told of).
 */
export function encodeAll(
  topic: Topic,
  encoding: string,
  messages: readonly unknown[],
  cache?: WeakMap<object, Buffer>,
): { readonly parts: Buffer[]; readonly from: readonly unknown[] } {
  const parts: Buffer[] = [];
  const encoder = topic.encoders[encoding] as ((message: unknown) => Buffer) | undefined;
  let from: unknown[] | undefined;
  for (let i = 0; i < messages.length; i++) {
    try {
      if (!encoder) throw new Error(`no "${encoding}" encoder`);
      const m = messages[i];
      const cached = cache && typeof m === 'object' && m !== null ? cache.get(m) : undefined;
      const bytes = cached ?? encoder(m);
      if (cache && !cached && typeof m === 'object' && m !== null) cache.set(m, bytes);
      parts.push(bytes);
    } catch (err) {
      topic.encodeFailed(topic, err);
      from ??= messages.slice(0, i);
      continue;
    }
    from?.push(messages[i]);
  }
  return { parts, from: from ?? messages };
}

export class Topic {
  readonly clients = new Set<Connection>();
  /** Routes (groups of a routed feed) feeding it now: it outlives its clients while fed. */
  routes = 0;
  /** Loop turns the current turn has been written in so far. */
  turnsWriting = 0;
  /** Messages queued for the next turn; their bytes instead while `pendingEncoded`. */
  private pending: unknown[] = [];
  private pendingEncoded = false;
  private writing: Turn | undefined;
  /** Clients in the topic whose messages are kept, not written, until released. */
  private held: Map<Connection, Held> | undefined;
  /**
   * Per encoding, the bytes of messages written to released clients, each
   * kept while the message lives: clients that recover together share what
   * they missed, and it is encoded once for them all.
   */
  private releasedBytes: Map<string, WeakMap<object, Buffer>> | undefined;
  /** Messages queued, and of them those written to every client (or to none left). */
  private queued = 0;
  private settled = 0;
  /** Told once the messages queued before them are written (see written()). */
  private waiters: { readonly upTo: number; readonly done: () => void }[] | undefined;

  constructor(
    readonly family: string,
    readonly key: string,
    readonly encoders: Encoders<never>,
    readonly encodeFailed: EncodeFailed,
    /** Most messages kept for one held client. */
    private readonly maxHeld = 10_000,
    /**
     * The encoding each message is encoded in as it arrives, the bytes queued
     * instead of the message (a family with one encoding whose framings need
     * no message): a burst then holds compact bytes, not the messages with
     * their payload strings, until its turn is written.
     */
    private readonly encodeOnArrival?: string,
  ) {}

  /** Clients in the topic, held ones included. */
  get members(): number {
    return this.clients.size + (this.held?.size ?? 0);
  }

  /** The cache of what released clients were written in an encoding (see encodeAll). */
  releaseCache(encoding: string): WeakMap<object, Buffer> {
    const caches = (this.releasedBytes ??= new Map<string, WeakMap<object, Buffer>>());
    let cache = caches.get(encoding);
    if (!cache) caches.set(encoding, (cache = new WeakMap<object, Buffer>()));
    return cache;
  }

  /** Its clients and held clients now. */
  everyMember(): Connection[] {
    const all = [...this.clients];
    if (this.held) for (const c of this.held.keys()) all.push(c);
    return all;
  }

  /** Queues a message; true when the topic just got something to write. */
  add(message: unknown): boolean {
    // A turn's queue is encoded on arrival or not as a whole: decided by its first
    // message, not when only held clients would have the bytes.
    if (this.pending.length === 0)
      this.pendingEncoded = this.encodeOnArrival !== undefined && this.clients.size > 0;
    if (this.pendingEncoded) {
      const bytes = this.encodeNow(message);
      if (bytes === undefined) return false;
      this.pending.push(bytes);
    } else this.pending.push(message);
    this.queued++;
    if (this.held !== undefined) this.keepForHeld(message);
    return this.pending.length === 1;
  }

  private encodeNow(message: unknown): Buffer | undefined {
    try {
      const encoder = this.encoders[this.encodeOnArrival as string] as (m: unknown) => Buffer;
      return encoder(message);
    } catch (err) {
      this.encodeFailed(this, err);
      return undefined;
    }
  }

  /** The turn of what is queued, for `clients`. */
  private turnOf(messages: unknown[], clients: readonly Connection[]): Turn {
    return new Turn(
      this,
      messages,
      clients,
      this.pendingEncoded ? this.encodeOnArrival : undefined,
    );
  }

  /**
   * Puts a client in the topic held: every message that arrives from now on is
   * kept for it instead of written, until release().
   */
  hold(c: Connection): void {
    this.clients.delete(c);
    // Held already (a second recovery asked for at once): it keeps what it was kept.
    if (this.isHeld(c)) return;
    (this.held ??= new Map()).set(c, { messages: [], overflowed: false, release: undefined });
  }

  isHeld(c: Connection): boolean {
    return this.held?.has(c) === true;
  }

  /**
   * Ends a client's hold: `release` is given what arrived for it meanwhile, at
   * a moment when none of that is still queued for the topic's clients (at
   * once, or as the next turn begins), and the client is one of them from then
   * on. So what it gets is what `release` writes, then the topic's turns after.
   */
  release(c: Connection, release: Release): void {
    const held = this.held?.get(c);
    if (!held) return;
    if (this.pending.length > 0) held.release = release;
    else this.unhold(c, held, release);
  }

  /** Takes a client out of the topic, held or not. */
  remove(c: Connection): void {
    this.clients.delete(c);
    if (this.held?.delete(c) === true && this.held.size === 0) this.held = undefined;
  }

  private keepForHeld(message: unknown): void {
    for (const held of (this.held as Map<Connection, Held>).values()) {
      if (held.messages.length < this.maxHeld) held.messages.push(message);
      else held.overflowed = true;
    }
  }

  private unhold(c: Connection, held: Held, release: Release): void {
    this.remove(c);
    release(held.messages, held.overflowed);
    if (!c.closed) this.clients.add(c);
  }

  /** Releases the held clients whose release waited for the queued messages to be taken. */
  private releaseWaiting(): void {
    for (const [c, held] of this.held as Map<Connection, Held>)
      if (held.release) this.unhold(c, held, held.release);
  }

  /**
   * Resolves once everything queued so far has been handed to every client's
   * socket (or there is no client left to hand it to): what a durable feed
   * waits for before it acknowledges.
   */
  written(): Promise<void> {
    if (this.settled >= this.queued) return Promise.resolve();
    const upTo = this.queued;
    return new Promise((done) => (this.waiters ??= []).push({ upTo, done }));
  }

  /** Nothing more will be written (the topic is gone): everything queued is settled. */
  settleAll(): void {
    this.pending = [];
    this.writing = undefined;
    this.settle(this.queued - this.settled);
  }

  private settle(count: number): void {
    this.settled += count;
    const waiters = this.waiters;
    if (!waiters) return;
    let n = 0;
    while (n < waiters.length && (waiters[n] as { upTo: number }).upTo <= this.settled) n++;
    if (n === 0) return;
    const ready = waiters.splice(0, n);
    if (waiters.length === 0) this.waiters = undefined;
    for (const w of ready) w.done();
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  get isWriting(): boolean {
    return this.writing !== undefined;
  }

  /** Clients still to be written the current turn. */
  get remaining(): number {
    return this.writing ? this.writing.clients.length - this.writing.next : 0;
  }

  /**
   * Writes one client now what it has still to get from this topic — the rest
   * of the turn being written, then what is queued — for a stream about to
   * end with a last word of its own. It must end right after: a closed client
   * is skipped when the turn reaches it.
   */
  flushTo(c: Connection, totals: { bytesWritten: number; deliveries: number }): void {
    if (this.isHeld(c)) return;
    const turns: Turn[] = [];
    const w = this.writing;
    if (w && w.clients.indexOf(c, w.next) !== -1) turns.push(w);
    if (this.pending.length > 0) turns.push(this.turnOf(this.pending, [c]));
    for (const turn of turns) {
      const bytes = turn.bytesFor(c.framing);
      c.write(bytes);
      c.msgsSent += turn.count;
      totals.bytesWritten += bytes.length;
      totals.deliveries += turn.count;
    }
  }

  /** Starts a turn with what was queued, for the clients there are now; false when there is nothing to do. */
  begin(): boolean {
    if (this.writing || this.pending.length === 0) return false;
    const messages = this.pending;
    this.pending = [];
    if (this.clients.size === 0) {
      this.settle(messages.length);
      if (this.held !== undefined) this.releaseWaiting();
      return false;
    }
    this.writing = this.turnOf(messages, [...this.clients]);
    this.turnsWriting = 0;
    // Released now, they join after this turn: its messages are among those they were kept.
    if (this.held !== undefined) this.releaseWaiting();
    return true;
  }

  /**
   * Writes the current turn to up to `budget` more clients, adding the bytes
   * and deliveries (messages times clients) to `totals`; the turn ends when its
   * last client is written.
   */
  writeSome(
    budget: number,
    overBound: number,
    onOver: OverBound,
    totals: { bytesWritten: number; deliveries: number },
  ): void {
    const w = this.writing;
    if (!w) return;
    const end = Math.min(w.clients.length, w.next + budget);
    const count = w.count;
    for (let i = w.next; i < end; i++) {
      const c = w.clients[i] as Connection;
      if (c.closed) continue;
      const bytes = w.bytesFor(c.framing);
      const unsent = c.write(bytes);
      c.msgsSent += count;
      totals.bytesWritten += bytes.length;
      totals.deliveries += count;
      if (unsent > overBound) onOver(c, unsent);
    }
    w.next = end;
    if (end === w.clients.length) {
      this.writing = undefined;
      this.settle(count);
    }
  }
}
