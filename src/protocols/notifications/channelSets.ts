// Where a user's channels are kept: the Redis set `user:<id>:channels` (an app
// server manages it with SADD/SREM), or an in-process stand-in for the embedded
// bus and for applications that keep the sets themselves.
import type { RedisClient } from '../../sources/redisClient.js';

/** Reads a user's channel set; an empty set means the user is unknown (Redis drops empty sets). */
export interface ChannelSetStore {
  members(user: string): Promise<readonly string[]>;
}

/** The Redis key of a user's channel set. */
export const channelSetKey = (user: string): string => `user:${user}:channels`;

/** A user's own channel, which their set normally contains. */
export const userChannel = (user: string): string => `user:${user}`;

/** Channels whose messages make a stream read its user's set again. */
export const isUserChannel = (channel: string): boolean => channel.startsWith('user:');

/** The sets in Redis, read with SMEMBERS on the server's command connection. */
export function redisChannelSets(redis: RedisClient): ChannelSetStore {
  return { members: (user) => redis.smembers(channelSetKey(user)) };
}

/** The sets in this process: for the embedded bus, tests and apps that hold them in memory. */
export class MemoryChannelSets implements ChannelSetStore {
  private readonly sets = new Map<string, Set<string>>();

  members(user: string): Promise<readonly string[]> {
    return Promise.resolve([...(this.sets.get(user) ?? [])]);
  }

  /** SADD: adds channels to a user's set. */
  add(user: string, ...channels: string[]): void {
    let set = this.sets.get(user);
    if (!set) this.sets.set(user, (set = new Set()));
    for (const c of channels) set.add(c);
  }

  /** SREM: removes channels; a set left empty is gone, as in Redis. */
  remove(user: string, ...channels: string[]): void {
    const set = this.sets.get(user);
    if (!set) return;
    for (const c of channels) set.delete(c);
    if (set.size === 0) this.sets.delete(user);
  }

  has(user: string, channel: string): boolean {
    return this.sets.get(user)?.has(channel) ?? false;
  }
}
