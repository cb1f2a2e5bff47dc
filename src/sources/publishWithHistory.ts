// Publishing with history from a Node app, on the app's own ioredis client:
// the same atomic step as POST /api/publish, so clients that reconnect get the
// message if they missed it. A string is published as it is, any other value
// as its JSON text.
import type { Redis } from 'ioredis';
import type { Position } from '../core/position.js';
import type { HistoryOptions } from './channelHistory.js';
import { RedisHistory } from './RedisHistory.js';

/** The server's defaults (HISTORY_SIZE, HISTORY_TTL_S): pass the same values as its own. */
export const DEFAULT_HISTORY: HistoryOptions = { size: 100, ttlS: 300 };

export function publish(
  redis: Redis,
  channel: string,
  data: unknown,
  options: HistoryOptions = DEFAULT_HISTORY,
): Promise<Position> {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return new RedisHistory(redis, options).publish(channel, payload);
}
