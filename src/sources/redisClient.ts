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
  const cluster = new Cluster(
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
  reconnectToKnownNodes(cluster, target.cluster);
  return cluster;
}

/** What a Cluster client keeps private: the nodes it starts every (re)connection from. */
interface ClusterStartup {
  startupNodes: { host: string; port: number }[];
}

/**
 * Makes a Cluster that has to connect again (every connection it had lost)
 * start from every node it has seen, not only the seeds it was given: ioredis
 * starts from its seeds alone, so once they are all gone (failed over,
 * replaced) it would never connect again, although the cluster still serves.
 * Pinned by test/integration/redisClusterReconnect.test.ts.
 */
function reconnectToKnownNodes(cluster: Cluster, seeds: readonly RedisNode[]): void {
  cluster.on('refresh', () => {
    const known = new Map<string, { host: string; port: number }>();
    for (const { host, port } of seeds) known.set(`${host}:${port}`, { host, port });
    for (const node of cluster.nodes('all')) {
      const { host, port } = node.options;
      if (host !== undefined && port !== undefined) known.set(`${host}:${port}`, { host, port });
    }
    (cluster as unknown as ClusterStartup).startupNodes = [...known.values()];
  });
}

/** Whether a channel is sharded (SSUBSCRIBE/SPUBLISH): it matches one of the globs. */
export function shardedChannels(globs: readonly string[]): (channel: string) => boolean {
  if (globs.length === 0) return () => false;
  const matchers = globs.map(globMatcher);
  return (channel) => matchers.some((m) => m.test(channel));
}
