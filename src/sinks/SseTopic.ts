// The clients of one topic, and what was broadcast to them in this event-loop
// turn. At the end of the turn the turn's messages are joined and framed once,
// and those same bytes go to every client in one write: the work per message
// does not grow with the number of clients.
import { httpChunk } from './SseConnection.js';
import type { MessageCounter, SseConnection } from './SseConnection.js';

export interface TurnBytes {
  /** The turn's SSE bytes, for clients written through their response. */
  readonly raw: Buffer;
  /** The same bytes as one HTTP/1.1 chunk, for clients written on their socket. */
  readonly chunk: Buffer;
  /** How many of the turn's writes were messages (not keepalives). */
  readonly messages: number;
}

export class SseTopic implements MessageCounter {
  readonly clients = new Set<SseConnection>();
  /** Messages handed to this topic's clients so far. */
  sent = 0;
  private pending: Buffer[] = [];
  private pendingMessages = 0;

  constructor(
    readonly family: string,
    readonly key: string,
  ) {}

  /** Queues encoded bytes for this turn; true when the topic just became dirty. */
  add(bytes: Buffer, isMessage: boolean): boolean {
    this.pending.push(bytes);
    if (isMessage) this.pendingMessages++;
    return this.pending.length === 1;
  }

  /** Takes this turn's bytes, joined once; undefined when nothing was queued. */
  take(): TurnBytes | undefined {
    const pending = this.pending;
    if (pending.length === 0) return undefined;
    const messages = this.pendingMessages;
    this.pending = [];
    this.pendingMessages = 0;
    this.sent += messages;
    const raw = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
    return { raw, chunk: httpChunk(raw), messages };
  }
}
