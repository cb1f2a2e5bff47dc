// The bare publisher on a Redis command connection: SPUBLISH for the sharded
// channels (REDIS_SHARDED_CHANNELS), PUBLISH for the rest, so a message reaches
// the subscribers RedisPubSub made for it either way.
import type { Publisher } from '../core/message.js';
import type { RedisClient } from './redisClient.js';

export function shardedPublisher(
  redis: RedisClient,
  isSharded: (channel: string) => boolean,
): Publisher {
  return {
    publish: (channel, payload) =>
      isSharded(channel) ? redis.spublish(channel, payload) : redis.publish(channel, payload),
  };
}
