// Site history in Redis (see SiteHistory.ts): a stream per site, written under
// the queue entries' own ids, so every instance that reads the same entry
// writes the same history (Redis refuses the second XADD of an id), and read
// back by one Lua script that checks the history still reaches a position and
// takes the range after it in one atomic step.
import type { RedisClient } from './redisClient.js';
import { UNRECOVERED, compareEntryIds, siteHistoryKey } from './SiteHistory.js';
import type {
  SiteHistory,
  SiteHistoryEntry,
  SiteHistoryOptions,
  SiteRecovery,
} from './SiteHistory.js';

// KEYS: the site's stream. ARGV: size, ttl, then id and frame pairs, oldest first.
// An id at or below the stream's top was written already (by this instance or
// another): Redis refuses it and that is the idempotence; any other error stops.
const ADD = `
for i = 3, #ARGV, 2 do
  local added = redis.pcall('XADD', KEYS[1], 'MAXLEN', ARGV[1], ARGV[i], 'f', ARGV[i + 1])
  if type(added) == 'table' and added.err and not string.find(added.err, 'equal or smaller', 1, true) then
    return added
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 0
`;

// KEYS: the site's stream. ARGV: since, upTo, max.
// {0} when nothing at or before `since` is kept (trimmed past it, expired, or
// never written): what followed it may be gone in part. Else {1, entries}, at
// most max + 1 of them, so that one too many says "too many".
const SINCE = `
if #redis.call('XRANGE', KEYS[1], '-', ARGV[1], 'COUNT', 1) == 0 then return {0} end
return {1, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], ARGV[2], 'COUNT', tonumber(ARGV[3]) + 1)}
`;

type Entry = [id: string, fields: string[]];

interface SiteHistoryCommands {
  rxsSiteHistoryAdd(key: string, size: number, ttlS: number, ...pairs: string[]): Promise<number>;
  rxsSiteHistorySince(
    key: string,
    since: string,
    upTo: string,
    max: number,
  ): Promise<[0] | [1, Entry[]]>;
}

export interface RedisSiteHistoryOptions extends SiteHistoryOptions {
  /** Told of a write that failed (the history then misses those entries; recovery says so). */
  readonly onError?: (error: unknown) => void;
}

export class RedisSiteHistory implements SiteHistory {
  private readonly redis: RedisClient & SiteHistoryCommands;
  /** This run of synchronous code's adds, by site: id, frame, id, frame… */
  private batch: Map<string, string[]> | undefined;
  /**
   * Per site, the newest entry this process failed to write. Not retried: a
   * later write may have gone in already, and the stream takes ids in order
   * only. A recovery from before it is refused rather than answered with a hole.
   */
  private readonly unwritten = new Map<string, string>();

  /**
   * `redis`: the connection recovery reads go on too, so that a read sees every
   * write sent before it (one connection runs its commands in order).
   */
  constructor(
    redis: RedisClient,
    private readonly options: RedisSiteHistoryOptions,
  ) {
    // Defined once per connection: sent by EVALSHA, loaded again on a new socket.
    const commands = redis as RedisClient & Partial<SiteHistoryCommands>;
    if (!commands.rxsSiteHistoryAdd)
      redis.defineCommand('rxsSiteHistoryAdd', { numberOfKeys: 1, lua: ADD });
    if (!commands.rxsSiteHistorySince)
      redis.defineCommand('rxsSiteHistorySince', { numberOfKeys: 1, lua: SINCE });
    this.redis = redis as RedisClient & SiteHistoryCommands;
  }

  add(site: string, id: string, frame: string): void {
    if (!this.batch) {
      this.batch = new Map();
      // A read's entries come in one run of code: one script call per site for all of them.
      queueMicrotask(() => this.flush());
    }
    let pairs = this.batch.get(site);
    if (!pairs) this.batch.set(site, (pairs = []));
    pairs.push(id, frame);
  }

  async since(site: string, since: string, upTo: string, max: number): Promise<SiteRecovery> {
    // Adds still batched go first, on the same connection: the read sees them.
    this.flush();
    const reply = await this.redis.rxsSiteHistorySince(siteHistoryKey(site), since, upTo, max);
    if (reply[0] === 0) return { recovered: false, reason: UNRECOVERED.gone };
    // Asked after the read's reply: a write that failed before it is known by now.
    const missing = this.unwritten.get(site);
    if (missing !== undefined && compareEntryIds(missing, since) > 0)
      return { recovered: false, reason: UNRECOVERED.incomplete };
    const entries: SiteHistoryEntry[] = reply[1].map(([id, fields]) => ({
      id,
      frame: fields[fields.indexOf('f') + 1] ?? '',
    }));
    return entries.length > max
      ? { recovered: false, reason: UNRECOVERED.tooMany(max) }
      : { recovered: true, entries };
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (!batch) return;
    const { size, ttlS, onError } = this.options;
    for (const [site, pairs] of batch)
      this.redis
        .rxsSiteHistoryAdd(siteHistoryKey(site), size, ttlS, ...pairs)
        .catch((err: unknown) => {
          const newest = pairs[pairs.length - 2] as string;
          const known = this.unwritten.get(site);
          if (known === undefined || compareEntryIds(newest, known) > 0)
            this.unwritten.set(site, newest);
          onError?.(err);
        });
  }
}
