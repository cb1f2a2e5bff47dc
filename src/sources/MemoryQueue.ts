// The in-process stand-in for a Redis Stream read by a consumer group, for the
// embedded default: the same semantics (pending until acknowledged, claimed
// again after an idle time with the delivery counted, dead letters with their
// reason, a bounded stream), with this process as the group's one consumer.
import { deadLetterFields, entryTime } from './QueueStore.js';
import type { QueueEntry, QueueLag, QueueStore } from './QueueStore.js';

export interface MemoryQueueOptions {
  /** Default `datastream:incoming`; the dead letters are `<key>:dead`. */
  readonly key?: string;
  /** The stream keeps at most this many entries, dropping the oldest first. */
  readonly maxLen: number;
  /**
   * …and at most this many bytes of fields (default: no bound), dropping the
   * oldest first: the process's heap holds them.
   */
  readonly maxBytes?: number;
  /** The dead-letter list keeps at most this many. */
  readonly deadMaxLen: number;
  /** How long readNew waits for an entry. */
  readonly blockMs: number;
  /** Most entries one readNew returns (default 100). */
  readonly count?: number;
}

interface Stored {
  readonly id: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** What an entry's fields take in the heap (two bytes a character), for the byte bound. */
function sizeOf(fields: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(fields)) bytes += (name.length + value.length) * 2;
  return bytes;
}

interface Pending {
  readonly entry: Stored;
  deliveries: number;
  deliveredAt: number;
}

export class MemoryQueue implements QueueStore {
  readonly key: string;
  readonly deadKey: string;
  private readonly count: number;
  private readonly entries: Stored[] = [];
  /** Entries read and not acknowledged, by id; reads go oldest first, so Map order is id order. */
  private readonly pending = new Map<string, Pending>();
  private readonly dead: QueueEntry[] = [];
  /** How many of `entries` the group has read (they are all at the front). */
  private read = 0;
  /** Bytes of the entries kept. */
  private bytes = 0;
  private lastMs = 0;
  private seq = 0;
  private readonly waiting = new Set<() => void>();
  private closed = false;

  constructor(private readonly options: MemoryQueueOptions) {
    this.key = options.key ?? 'datastream:incoming';
    this.deadKey = `${this.key}:dead`;
    this.count = options.count ?? 100;
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  async readNew(): Promise<QueueEntry[]> {
    if (this.closed) return [];
    if (this.read === this.entries.length) await this.wait();
    if (this.closed) return [];
    // A second reader woken by the same enqueue finds nothing left and gets [].
    const batch = this.entries.slice(this.read, this.read + this.count);
    this.read += batch.length;
    const now = Date.now();
    for (const entry of batch)
      this.pending.set(entry.id, { entry, deliveries: 1, deliveredAt: now });
    return batch.map((e) => ({ ...e, deliveries: 1 }));
  }

  claim(minIdleMs: number, count: number): Promise<QueueEntry[]> {
    const now = Date.now();
    const first = this.entries[0];
    const claimed: QueueEntry[] = [];
    for (const [id, p] of this.pending) {
      if (claimed.length >= count) break;
      // Trimmed away while pending (only the oldest are): Redis 7's XAUTOCLAIM drops it.
      if (!first || compareIds(id, first.id) < 0) {
        this.pending.delete(id);
        continue;
      }
      if (now - p.deliveredAt < minIdleMs) continue;
      p.deliveries++;
      p.deliveredAt = now;
      claimed.push({ ...p.entry, deliveries: p.deliveries });
    }
    return Promise.resolve(claimed);
  }

  ack(ids: readonly string[]): Promise<number> {
    let acked = 0;
    for (const id of ids) if (this.pending.delete(id)) acked++;
    return Promise.resolve(acked);
  }

  async deadLetter(entry: QueueEntry, reason: string): Promise<void> {
    this.dead.push({
      id: this.nextId(),
      fields: deadLetterFields(entry, reason),
      deliveries: 0,
    });
    if (this.dead.length > this.options.deadMaxLen)
      this.dead.splice(0, this.dead.length - this.options.deadMaxLen);
    await this.ack([entry.id]);
  }

  /** Appends even after close(): producers may outlive the reader. */
  enqueue(fields: Readonly<Record<string, string>>): Promise<string> {
    const id = this.nextId();
    this.entries.push({ id, fields: Object.freeze({ ...fields }) });
    this.bytes += sizeOf(fields);
    const maxBytes = this.options.maxBytes ?? Infinity;
    const excess = this.entries.length - this.options.maxLen;
    let n = 0;
    let freed = 0;
    // The newest entry always stays.
    while (n < this.entries.length - 1 && (n < excess || this.bytes - freed > maxBytes)) {
      freed += sizeOf((this.entries[n] as Stored).fields);
      n++;
    }
    if (n > 0) {
      this.entries.splice(0, n);
      this.bytes -= freed;
      this.read = Math.max(0, this.read - n);
    }
    for (const wake of [...this.waiting]) wake();
    return Promise.resolve(id);
  }

  trim(): Promise<void> {
    return Promise.resolve();
  }

  lag(): Promise<QueueLag> {
    const oldest = this.pending.keys().next().value;
    return Promise.resolve({
      pending: this.pending.size,
      unread: this.entries.length - this.read,
      oldestPendingMs: oldest ? Math.max(0, Date.now() - entryTime(oldest)) : 0,
    });
  }

  /** The dead letters, oldest first (for tests and the status page). */
  deadLetters(): readonly QueueEntry[] {
    return [...this.dead];
  }

  close(): Promise<void> {
    this.closed = true;
    for (const wake of [...this.waiting]) wake();
    return Promise.resolve();
  }

  /** Waits for an entry, blockMs, or close(). */
  private wait(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.options.blockMs);
      timer.unref();
      this.waiting.add(done);
    });
  }

  /** `<ms>-<seq>`, strictly increasing even when the clock stands still or goes back. */
  private nextId(): string {
    const now = Date.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else this.seq++;
    return `${this.lastMs}-${this.seq}`;
  }
}

function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
