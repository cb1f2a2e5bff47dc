// The site history a server uses by default: in Redis, on the command
// connection, when it runs on Redis (so a recovery read goes after the writes
// of every entry delivered before it); in the process otherwise.
import type { RedisClient } from './redisClient.js';
import { MemorySiteHistory } from './MemorySiteHistory.js';
import { RedisSiteHistory } from './RedisSiteHistory.js';
import type { RedisSiteHistoryOptions } from './RedisSiteHistory.js';
import type { SiteHistory } from './SiteHistory.js';

export function siteHistoryFor(
  redis: RedisClient | undefined,
  options: RedisSiteHistoryOptions,
): SiteHistory {
  return redis ? new RedisSiteHistory(redis, options) : new MemorySiteHistory(options);
}
