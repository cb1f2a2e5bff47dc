// What a durable queue offers its readers: a Redis Stream read through a
// consumer group (RedisStreamQueue), or the in-process stand-in with the same
// semantics (MemoryQueue). Each instance reads with a group of its own and one
// consumer per process: an entry stays pending until acknowledged, an entry left
// pending (by a consumer that died, or a delivery that failed) is claimed again
// after an idle time with its delivery count raised, and a bad entry moves to a
// dead-letter stream with its reason.
import type { Readiness } from '../core/readiness.js';

/** An entry as this consumer read it. */
export interface QueueEntry {
  /** The stream entry id, `<ms>-<seq>`. */
  readonly id: string;
  /** Its fields as written: XADD's field value pairs. */
  readonly fields: Readonly<Record<string, string>>;
  /** How many times it has been handed to a consumer of the group, this time included. */
  readonly deliveries: number;
}

export interface QueueLag {
  /** Entries the group read and has not acknowledged. */
  readonly pending: number;
  /** Entries in the stream the group has not read yet; null when the store cannot tell. */
  readonly unread: number | null;
  /** Age of the oldest pending entry (ms, from its id); 0 when none is pending. */
  readonly oldestPendingMs: number;
}

export interface QueueStore {
  /** The stream's name (DATASTREAM_KEY), and `<key>:dead`, its dead letters. */
  readonly key: string;
  readonly deadKey: string;
  /** Creates the group when it is missing (from the stream's end: a new instance replays nothing). */
  open(): Promise<void>;
  /**
   * Once open, the id the group had read up to (an earlier run's last read, or
   * the stream's end when the group was made): what came before it is not
   * this run's to deliver. Absent or undefined: not known.
   */
  readonly groupReadUpTo?: string | undefined;
  /** One read of entries no consumer of the group has read, waiting up to the block time; [] when none came. */
  readNew(): Promise<QueueEntry[]>;
  /**
   * Entries pending with any consumer of the group for at least `minIdleMs`,
   * now this consumer's, each with its delivery count raised; up to `count`, oldest first.
   */
  claim(minIdleMs: number, count: number): Promise<QueueEntry[]>;
  /** Acknowledges entries: they are done for this group. Returns how many were pending. */
  ack(ids: readonly string[]): Promise<number>;
  /** Appends the entry with the reason to the dead-letter stream and acknowledges it, in one step. */
  deadLetter(entry: QueueEntry, reason: string): Promise<void>;
  /** Appends an entry, trimming the stream to its bound; returns its id. */
  enqueue(fields: Readonly<Record<string, string>>): Promise<string>;
  /** Trims the stream to its bound (for entries producers added without MAXLEN). */
  trim(): Promise<void>;
  lag(): Promise<QueueLag>;
  /** Whether it can read now; absent means always. */
  readiness?(): Readiness;
  /** Stops reading; a read in progress ends with []. */
  close(): Promise<void>;
}

/** The time an entry id was assigned, in ms since the epoch. */
export function entryTime(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash === -1 ? id : id.slice(0, dash));
}

/** An entry's fields kept with a dead letter at most (as JSON text): enough to tell what it was. */
export const DEAD_FIELDS_MAX = 4_096;

/**
 * A dead letter's record of an entry: its id, why it died, how often it was
 * delivered, and its fields as JSON text cut to DEAD_FIELDS_MAX characters
 * (`fields_bytes` says how long they were), so the dead letters of oversized
 * entries are not copies of them.
 */
export function deadLetterFields(entry: QueueEntry, reason: string): Record<string, string> {
  const fields = JSON.stringify(entry.fields);
  return {
    entry: entry.id,
    reason,
    deliveries: String(entry.deliveries),
    fields: fields.length > DEAD_FIELDS_MAX ? `${fields.slice(0, DEAD_FIELDS_MAX)}…` : fields,
    fields_bytes: String(Buffer.byteLength(fields)),
  };
}
