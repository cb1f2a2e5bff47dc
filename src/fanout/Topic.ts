// The clients of one topic, and what was broadcast to them. A turn's messages
// are joined and framed once, and those same bytes go to every client in one
// write each: the work per message does not grow with the number of clients.
// A large topic is written a slice at a time (see SseHub), so a topic's turn
// stays in `writing` until its last client has it.
import { httpChunk } from '../transports/sse/SseConnection.js';
import type { MessageCounter, SseConnection } from '../transports/sse/SseConnection.js';

export interface TurnBytes {
  /** The turn's SSE bytes, for clients written through their response. */
  readonly raw: Buffer;
  /** The same bytes as one HTTP/1.1 chunk, for clients written on their socket. */
  readonly chunk: Buffer;
}

/** Told of each client that a write left over the hub's bound, with its unsent bytes. */
export type OverBound = (connection: SseConnection, unsent: number) => void;

export class SseTopic implements MessageCounter {
  readonly clients = new Set<SseConnection>();
  /** Messages handed to this topic's clients so far. */
  sent = 0;
  private pending: Buffer[] = [];
  private pendingMessages = 0;
  private writing: { turn: TurnBytes; clients: SseConnection[]; next: number } | undefined;
  /** Loop turns the current turn has been written in so far. */
  turnsWriting = 0;

  constructor(
    readonly family: string,
    readonly key: string,
  ) {}

  /** Queues encoded bytes; true when the topic just got something to write. */
  add(bytes: Buffer, isMessage: boolean): boolean {
    this.pending.push(bytes);
    if (isMessage) this.pendingMessages++;
    return this.pending.length === 1;
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
   * Starts a turn: joins what was queued, once, for the clients there are now.
   * Returns the deliveries (messages times clients) it stands for.
   */
  begin(): number {
    const pending = this.pending;
    if (this.writing || pending.length === 0) return 0;
    const messages = this.pendingMessages;
    this.pending = [];
    this.pendingMessages = 0;
    this.sent += messages;
    const raw = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
    const clients = [...this.clients];
    this.writing = { turn: { raw, chunk: httpChunk(raw) }, clients, next: 0 };
    this.turnsWriting = 0;
    return messages * clients.length;
  }

  /**
   * Writes the current turn to up to `budget` more clients. Returns the bytes
   * written; the turn ends when its last client is written.
   */
  writeSome(budget: number, overBound: number, onOver: OverBound): number {
    const w = this.writing;
    if (!w) return 0;
    const end = Math.min(w.clients.length, w.next + budget);
    let written = 0;
    for (let i = w.next; i < end; i++) {
      const c = w.clients[i] as SseConnection;
      if (c.closed) continue;
      const bytes = c.chunked ? w.turn.chunk : w.turn.raw;
      const unsent = c.write(bytes);
      written += bytes.length;
      if (unsent > overBound) onOver(c, unsent);
    }
    w.next = end;
    if (end === w.clients.length) this.writing = undefined;
    return written;
  }
}
