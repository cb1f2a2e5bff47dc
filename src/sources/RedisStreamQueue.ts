// A Redis Stream as a durable queue (QueueStore): read with XREADGROUP by this
// instance's consumer group, acknowledged with XACK, entries left pending
// claimed with XAUTOCLAIM, bad ones moved to `<key>:dead`. Blocking reads hold a
// connection of their own; every other command goes on the shared one.
import { BehaviorSubject } from 'rxjs';
import { Cluster } from 'ioredis';
import { keySlot } from './keySlot.js';
import type { RedisClient } from './redisClient.js';
import type { Readiness } from '../core/readiness.js';
import { connectionReadiness } from './connectionReadiness.js';
import type { ConnectionReadiness } from './connectionReadiness.js';
import { deadLetterFields, entryTime } from './QueueStore.js';
import type { QueueEntry, QueueLag, QueueStore } from './QueueStore.js';

export interface RedisStreamQueueOptions {
  readonly key: string;
  /** This instance's consumer group: every instance reads every entry through its own. */
  readonly group: string;
  /** This process's consumer in the group. */
  readonly consumer: string;
  /** The stream is trimmed to about this many entries (MAXLEN ~). */
  readonly maxLen: number;
  readonly deadMaxLen: number;
  /** How long one read waits for an entry (BLOCK). */
  readonly blockMs: number;
  /** Most entries one read or claim returns. */
  readonly count?: number;
}

/** XREADGROUP's and XAUTOCLAIM's entries: `[id, [field, value, …]]`; a deleted one has no fields. */
type RawEntry = [id: string, fields: string[] | null];

function fieldsOf(flat: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return fields;
}

/** XINFO's flat `[name, value, …]` replies as an object. */
function pairs(flat: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

const isNoGroup = (err: unknown) => err instanceof Error && err.message.startsWith('NOGROUP');

export class RedisStreamQueue implements QueueStore {
  readonly key: string;
  readonly deadKey: string;
  private readonly reader: RedisClient;
  private readonly count: number;
  private readonly state$ = new BehaviorSubject<string>('connecting');
  private readonly ready: ConnectionReadiness;
  private closed = false;
  /** The last entry this process read from the group: where a lost group starts again. */
  private lastRead = '0';
  groupReadUpTo: string | undefined;

  /** `redis` is the shared command connection; the blocking reads get a duplicate of it. */
  constructor(
    private readonly redis: RedisClient,
    private readonly options: RedisStreamQueueOptions,
  ) {
    this.key = options.key;
    this.deadKey = `${options.key}:dead`;
    this.count = options.count ?? 100;
    const readerOptions = {
      connectionName: `rx-streamer:queue:${options.consumer}`,
      // A blocked read answers within blockMs; only a dead connection takes longer.
      commandTimeout: options.blockMs + 10_000,
      maxRetriesPerRequest: null,
    };
    this.reader =
      redis instanceof Cluster
        ? redis.duplicate(undefined, {
            redisOptions: { ...redis.options.redisOptions, ...readerOptions },
          })
        : redis.duplicate(readerOptions);
    this.reader.on('error', () => undefined);
    for (const state of ['connect', 'ready', 'close', 'reconnecting', 'end'] as const)
      this.reader.on(state, () => this.state$.next(this.reader.status));
    this.ready = connectionReadiness('redis stream reader', this.state$);
  }

  async open(): Promise<void> {
    await this.createGroup('$');
    // Consumers of earlier runs that hold nothing: their names would pile up.
    const { group, consumer } = this.options;
    const consumers = (await this.redis.xinfo('CONSUMERS', this.key, group)) as unknown[][];
    for (const c of consumers.map(pairs)) {
      if (c.name !== consumer && c.pending === 0)
        await this.redis.xgroup('DELCONSUMER', this.key, group, String(c.name));
    }
    const groups = (await this.redis.xinfo('GROUPS', this.key)) as unknown[][];
    const read = groups.map(pairs).find((g) => g.name === group)?.['last-delivered-id'];
    this.groupReadUpTo = typeof read === 'string' ? read : undefined;
  }

  async readNew(): Promise<QueueEntry[]> {
    if (this.closed) return [];
    const { group, consumer, blockMs } = this.options;
    let reply: unknown;
    try {
      reply = await this.reader.xreadgroup(
        'GROUP',
        group,
        consumer,
        'COUNT',
        this.count,
        'BLOCK',
        blockMs,
        'STREAMS',
        this.key,
        '>',
      );
    } catch (err) {
      if (this.closed) return [];
      if (isNoGroup(err)) {
        await this.createGroup(this.lastRead);
        return [];
      }
      throw err;
    }
    const streams = reply as [key: string, entries: RawEntry[]][] | null;
    const entries = streams?.[0]?.[1] ?? [];
    const last = entries[entries.length - 1];
    if (last) this.lastRead = last[0];
    return entries.flatMap(([id, flat]) =>
      flat ? [{ id, fields: fieldsOf(flat), deliveries: 1 }] : [],
    );
  }

  async claim(minIdleMs: number, count: number): Promise<QueueEntry[]> {
    const { group, consumer } = this.options;
    const claimed: RawEntry[] = [];
    let cursor = '0-0';
    try {
      do {
        const [next, entries] = (await this.redis.xautoclaim(
          this.key,
          group,
          consumer,
          minIdleMs,
          cursor,
          'COUNT',
          Math.min(this.count, count - claimed.length),
        )) as [string, RawEntry[], string[]?];
        claimed.push(...entries.filter(([, flat]) => flat !== null));
        cursor = next;
      } while (cursor !== '0-0' && claimed.length < count);
    } catch (err) {
      if (!isNoGroup(err)) throw err;
      await this.createGroup(this.lastRead);
      return [];
    }
    if (claimed.length === 0) return [];
    // XAUTOCLAIM raised each one's delivery count; XPENDING tells it.
    const first = (claimed[0] as RawEntry)[0];
    const last = (claimed[claimed.length - 1] as RawEntry)[0];
    const pending = (await this.redis.xpending(
      this.key,
      group,
      first,
      last,
      claimed.length,
      consumer,
    )) as [id: string, consumer: string, idle: number, deliveries: number][];
    const deliveries = new Map(pending.map(([id, , , n]) => [id, n]));
    return claimed.map(([id, flat]) => ({
      id,
      fields: fieldsOf(flat ?? []),
      deliveries: deliveries.get(id) ?? 1,
    }));
  }

  async ack(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.redis.xack(this.key, this.options.group, ...ids);
  }

  async deadLetter(entry: QueueEntry, reason: string): Promise<void> {
    // On a Cluster a transaction takes keys of one slot: the default key and its
    // dead letters (`queue`, `queue:dead`) are in two, so the entry is copied, then
    // acknowledged (a crash between leaves it pending, to be dead-lettered again).
    // A hash-tagged key (`{sites}:queue`) keeps both in one slot and the step atomic.
    const atomic = !(this.redis instanceof Cluster) || keySlot(this.key) === keySlot(this.deadKey);
    const { deadMaxLen, group } = this.options;
    const fields = Object.entries(deadLetterFields(entry, reason)).flat();
    if (!atomic) {
      await this.redis.xadd(this.deadKey, 'MAXLEN', '~', deadMaxLen, '*', ...fields);
      await this.redis.xack(this.key, group, entry.id);
      return;
    }
    const results = await this.redis
      .multi()
      .xadd(this.deadKey, 'MAXLEN', '~', deadMaxLen, '*', ...fields)
      .xack(this.key, group, entry.id)
      .exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed)
      throw failed?.[0] ?? new Error('the dead-letter transaction was aborted');
  }

  async enqueue(fields: Readonly<Record<string, string>>): Promise<string> {
    const id = await this.redis.xadd(
      this.key,
      'MAXLEN',
      '~',
      this.options.maxLen,
      '*',
      ...Object.entries(fields).flat(),
    );
    return id as string;
  }

  async trim(): Promise<void> {
    await this.redis.xtrim(this.key, 'MAXLEN', '~', this.options.maxLen);
  }

  async lag(): Promise<QueueLag> {
    const [groups, summary] = await Promise.all([
      this.redis.xinfo('GROUPS', this.key).catch(() => []) as Promise<unknown[][]>,
      this.redis.xpending(this.key, this.options.group).catch(() => null) as Promise<
        [count: number, first: string | null, last: string | null, consumers: unknown] | null
      >,
    ]);
    const mine = groups.map(pairs).find((g) => g.name === this.options.group);
    const lag = mine?.lag;
    const oldest = summary?.[1];
    return {
      pending: Number(summary?.[0] ?? 0),
      unread: typeof lag === 'number' ? lag : null,
      oldestPendingMs: oldest ? Math.max(0, Date.now() - entryTime(oldest)) : 0,
    };
  }

  readiness(): Readiness {
    return this.ready.now();
  }

  close(): Promise<void> {
    this.closed = true;
    this.reader.disconnect();
    return Promise.resolve();
  }

  /**
   * Creates the group at `from` unless it exists; MKSTREAM makes the stream too.
   * `$`: new entries only. A group gone while this process ran (a Redis that lost
   * its data, a failover that lost the group) starts again after the last entry
   * it read: a stream kept is not read again from its start (every entry
   * delivered twice), and a new stream's entries all come after it.
   */
  private async createGroup(from: string): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.key, this.options.group, from, 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
    }
  }
}
