// One Redis or a Redis Cluster, picked by the configuration (REDIS_URL or
// REDIS_CLUSTER_NODES), behind one type; and which channels go sharded
// (REDIS_SHARDED_CHANNELS: SSUBSCRIBE and SPUBLISH instead of SUBSCRIBE and PUBLISH).
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { RedisNode } from '../core/config.js';
import { globMatcher } from './globMatcher.js';

/** A command connection: a single Redis, or a Cluster that routes each command to its slot. */
export type RedisClient = Redis | Cluster;

/** Where the server's Redis is: a URL, or a Cluster's seed nodes. */
export type RedisTarget = string | { readonly cluster: readonly RedisNode[] };

/** The target the configuration names, if any. */
export function redisTarget(config: {
  readonly redisUrl: string | undefined;
  readonly redisCluster: readonly RedisNode[] | undefined;
}): RedisTarget | undefined {
  if (config.redisCluster) return { cluster: config.redisCluster };
  return config.redisUrl;
}

/**
 * Opens a connection to the target. On a Cluster, `options` apply to each node's
 * connection, and the Cluster retries (a failover, a moved slot) on its own.
 */
export function connectRedis(
  target: RedisTarget,
  options: RedisOptions = {},
  clusterOptions: ClusterOptions = {},
): RedisClient {
  if (typeof target === 'string') return new Redis(target, options);
  const { retryStrategy, enableOfflineQueue, ...perNode } = options;
  return new Cluster(
    target.cluster.map((n) => ({ host: n.host, port: n.port })),
    {
      ...(retryStrategy ? { clusterRetryStrategy: retryStrategy } : {}),
      ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
      // A failed-over master's replica takes a moment to be promoted: keep asking.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      ...clusterOptions,
      redisOptions: { ...perNode, ...clusterOptions.redisOptions },
    },
  );
}

/** Whether a channel is sharded (SSUBSCRIBE/SPUBLISH): it matches one of the globs. */
export function shardedChannels(globs: readonly string[]): (channel: string) => boolean {
  if (globs.length === 0) return () => false;
  const matchers = globs.map(globMatcher);
  return (channel) => matchers.some((m) => m.test(channel));
}
