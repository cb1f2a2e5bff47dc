// Channel history in Redis (see channelHistory.ts): two Lua scripts, one that
// publishes with history and one that reads a channel's top and what followed
// a position, each one atomic step on the channel's two hash-tagged keys.
import type { RedisClient } from './redisClient.js';
import { META_TTL_S, historyKeys, isWhole, newEpoch } from './channelHistory.js';
import type {
  ChannelHistory,
  HistoryOptions,
  Position,
  HistoryEntry,
  Recovery,
} from './channelHistory.js';

// KEYS: meta, stream. ARGV: channel, payload, size, ttl, meta ttl, a new epoch,
// and SPUBLISH for a sharded channel (PUBLISH when left out).
// A channel without an epoch (new, expired or flushed) starts one, and its old
// history, if any is left, goes with the old epoch.
const PUBLISH = `
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[6]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 's', 0)
end
local offset = redis.call('HINCRBY', KEYS[1], 's', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], offset .. '-0', 'p', ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call(ARGV[7] or 'PUBLISH', ARGV[1], '\\30h1:' .. epoch .. ':' .. offset .. ':' .. ARGV[2])
return {epoch, offset}
`;

// KEYS: meta, stream. ARGV: since epoch, since offset, max, a new epoch, meta ttl.
// Returns the epoch, the top, and the entries after the position when the
// epoch is the same and there are at most max of them.
const RECOVER = `
local meta = redis.call('HMGET', KEYS[1], 'e', 's')
local epoch = meta[1]
local top = tonumber(meta[2]) or 0
if not epoch then
  epoch = ARGV[4]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 's', 0)
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  top = 0
end
local since = tonumber(ARGV[2])
if epoch ~= ARGV[1] or top <= since or top - since > tonumber(ARGV[3]) then
  return {epoch, top, {}}
end
return {epoch, top, redis.call('XRANGE', KEYS[2], (since + 1) .. '-0', '+', 'COUNT', top - since)}
`;

type Entry = [id: string, fields: string[]];

interface HistoryCommands {
  rxsHistoryPublish(
    meta: string,
    stream: string,
    channel: string,
    payload: string,
    size: number,
    ttlS: number,
    metaTtlS: number,
    epoch: string,
    publishCommand: 'PUBLISH' | 'SPUBLISH',
  ): Promise<[string, number]>;
  rxsHistoryRecover(
    meta: string,
    stream: string,
    sinceEpoch: string,
    sinceOffset: number,
    max: number,
    epoch: string,
    metaTtlS: number,
  ): Promise<[string, number, Entry[]]>;
}

/** The most offsets a safe integer holds: a position past any top. */
const PAST_ANY_TOP = Number.MAX_SAFE_INTEGER;

export class RedisHistory implements ChannelHistory {
  private readonly redis: RedisClient & HistoryCommands;

  constructor(
    redis: RedisClient,
    private readonly options: HistoryOptions,
  ) {
    // Defined once per connection: sent by EVALSHA, loaded again after a Redis restart.
    const commands = redis as RedisClient & Partial<HistoryCommands>;
    if (!commands.rxsHistoryPublish)
      redis.defineCommand('rxsHistoryPublish', { numberOfKeys: 2, lua: PUBLISH });
    if (!commands.rxsHistoryRecover)
      redis.defineCommand('rxsHistoryRecover', { numberOfKeys: 2, lua: RECOVER });
    this.redis = redis as RedisClient & HistoryCommands;
  }

  async publish(channel: string, payload: string): Promise<Position> {
    const { meta, stream } = historyKeys(channel);
    const [epoch, offset] = await this.redis.rxsHistoryPublish(
      meta,
      stream,
      channel,
      payload,
      this.options.size,
      this.options.ttlS,
      Math.max(META_TTL_S, this.options.ttlS),
      newEpoch(),
      this.options.sharded?.(channel) ? 'SPUBLISH' : 'PUBLISH',
    );
    return { epoch, offset: Number(offset) };
  }

  async top(channel: string): Promise<Position> {
    return (await this.recover(channel, { epoch: '', offset: PAST_ANY_TOP }, 0)).top;
  }

  async recover(channel: string, since: Position, max: number): Promise<Recovery> {
    const { meta, stream } = historyKeys(channel);
    const [epoch, rawTop, entries] = await this.redis.rxsHistoryRecover(
      meta,
      stream,
      since.epoch,
      since.offset,
      max,
      newEpoch(),
      Math.max(META_TTL_S, this.options.ttlS),
    );
    const top: Position = { epoch, offset: Number(rawTop) };
    if (epoch !== since.epoch || top.offset - since.offset > max) return { recovered: false, top };
    if (top.offset <= since.offset)
      return top.offset === since.offset
        ? { recovered: true, top, publications: [] }
        : { recovered: false, top };
    const publications: HistoryEntry[] = entries.map(([id, fields]) => ({
      offset: Number(id.slice(0, id.indexOf('-'))),
      payload: fields[fields.indexOf('p') + 1] ?? '',
    }));
    return isWhole(
      since.offset,
      top.offset,
      publications.map((p) => p.offset),
    )
      ? { recovered: true, top, publications }
      : { recovered: false, top };
  }
}
