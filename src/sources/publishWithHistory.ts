// Publishing with history from a Node app, on the app's own ioredis client (a
// Redis or a Cluster): the same atomic step as POST /api/publish, so clients that
// reconnect get the message if they missed it. A string is published as it is,
// any other value as its JSON text; a sharded channel (REDIS_SHARDED_CHANNELS)
// goes out with SPUBLISH.
import type { RedisClient } from './redisClient.js';
import type { Position } from '../core/position.js';
import type { HistoryOptions } from './channelHistory.js';
import { RedisHistory } from './RedisHistory.js';

/** A Redis channel one may publish to with history: no glob characters, no spaces or controls. */
const CHANNEL = /^[A-Za-z0-9_.:@/{}=+-]{1,256}$/;

/** Why a channel cannot be published to with history (POST /api/publish, npm run publish:message), or undefined. */
export function publishChannelProblem(channel: unknown): string | undefined {
  if (typeof channel !== 'string' || channel === '') return 'channel must be a non-empty string';
  if (!CHANNEL.test(channel))
    return 'channel must be 1 to 256 letters, digits and _ . : @ / { } = + -';
  return undefined;
}

/** The server's defaults (HISTORY_SIZE, HISTORY_TTL_S): pass the same values as its own. */
export const DEFAULT_HISTORY: HistoryOptions = { size: 100, ttlS: 300 };

/**
 * How publish() keeps and sends a message: the history's size and TTL (the
 * server's defaults when left out), and whether the channel is sharded, as the
 * server's REDIS_SHARDED_CHANNELS says: true, or a test of the channel (see
 * shardedChannels() for the server's globs). A sharded channel is SPUBLISHed.
 */
export interface PublishOptions extends Partial<Omit<HistoryOptions, 'sharded'>> {
  readonly sharded?: boolean | ((channel: string) => boolean);
}

export function publish(
  redis: RedisClient,
  channel: string,
  data: unknown,
  options: PublishOptions = DEFAULT_HISTORY,
): Promise<Position> {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  const { sharded } = options;
  const history: HistoryOptions = {
    size: options.size ?? DEFAULT_HISTORY.size,
    ttlS: options.ttlS ?? DEFAULT_HISTORY.ttlS,
    ...(sharded === undefined
      ? {}
      : { sharded: typeof sharded === 'function' ? sharded : () => sharded }),
  };
  return new RedisHistory(redis, history).publish(channel, payload);
}
