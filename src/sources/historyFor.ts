// The channel history a server uses by default: in Redis, on the command
// connection, when it runs on Redis, with the reads of clients recovering
// together shared; in the process on the embedded bus; none on another source
// (publishing with history is then not available).
import type { PubSubSource } from '../core/message.js';
import type { ChannelHistory, HistoryOptions } from './channelHistory.js';
import type { RedisClient } from './redisClient.js';
import { CoalescedHistory } from './CoalescedHistory.js';
import { MemoryBus } from './MemoryBus.js';
import { MemoryHistory } from './MemoryHistory.js';
import { RedisHistory } from './RedisHistory.js';

export function historyFor(
  redis: RedisClient | undefined,
  source: PubSubSource,
  options: HistoryOptions,
): ChannelHistory | undefined {
  if (redis) return new CoalescedHistory(new RedisHistory(redis, options));
  if (source instanceof MemoryBus) return new MemoryHistory(source, options);
  return undefined;
}
