// Publishing with history from a Node app, on the app's own ioredis client:
// the same atomic step as POST /api/publish, so clients that reconnect get the
// message if they missed it. A string is published as it is, any other value
// as its JSON text.
import type { RedisClient } from './redisClient.js';
import type { Position } from '../core/position.js';
import type { HistoryOptions } from './channelHistory.js';
import { RedisHistory } from './RedisHistory.js';

/** A Redis channel one may publish to with history: no glob characters, no spaces or controls. */
const CHANNEL = /^[A-Za-z0-9_.:@/{}=+-]{1,256}$/;

/** Why a channel cannot be published to with history (POST /api/publish, npm run publish), or undefined. */
export function publishChannelProblem(channel: unknown): string | undefined {
  if (typeof channel !== 'string' || channel === '') return 'channel must be a non-empty string';
  if (!CHANNEL.test(channel))
    return 'channel must be 1 to 256 letters, digits and _ . : @ / { } = + -';
  return undefined;
}

/** The server's defaults (HISTORY_SIZE, HISTORY_TTL_S): pass the same values as its own. */
export const DEFAULT_HISTORY: HistoryOptions = { size: 100, ttlS: 300 };

export function publish(
  redis: RedisClient,
  channel: string,
  data: unknown,
  options: HistoryOptions = DEFAULT_HISTORY,
): Promise<Position> {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return new RedisHistory(redis, options).publish(channel, payload);
}
