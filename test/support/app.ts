// Starts the streamer in-process on a free port, on a real Redis or the in-process bus.
import { createStreamer } from '../../src/app.js';
import type { Streamer } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import type { Config, Env } from '../../src/core/config.js';
import type { Logger } from '../../src/core/logger.js';
import type { PubSubSource } from '../../src/core/message.js';
import type { ProtocolModule } from '../../src/protocols/protocol.js';
import { PostgresNotify } from '../../src/sources/PostgresNotify.js';
import { RedisPubSub } from '../../src/sources/RedisPubSub.js';
import { connectRedis, redisTarget, shardedChannels } from '../../src/sources/redisClient.js';
import { shardedPublisher } from '../../src/sources/shardedPublisher.js';

export interface TestApp {
  readonly url: string;
  readonly port: number;
  readonly config: Config;
  readonly streamer: Streamer;
  readonly source: PubSubSource;
  /** The LISTEN/NOTIFY source, when DATABASE_URL was given. */
  readonly postgres: PostgresNotify | undefined;
  close(): Promise<void>;
}

/** Env overrides use the real variable names, so the tests go through config parsing too. */
export async function startApp(
  options: {
    redisUrl?: string;
    /** A Redis Cluster's seed nodes (REDIS_CLUSTER_NODES), instead of redisUrl. */
    redisCluster?: string;
    source?: PubSubSource;
    env?: Env;
    /** The protocol modules to offer; the built-in ones by default. */
    protocols?: readonly ProtocolModule[];
    /** Where the streamer logs; nowhere by default. */
    logger?: Logger;
  } = {},
): Promise<TestApp> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    NODE_NAME: 'test-node',
    SUBSCRIPTION_GRACE_MS: '50',
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...(options.redisCluster ? { REDIS_CLUSTER_NODES: options.redisCluster } : {}),
    ...options.env,
  });
  const target = redisTarget(config) ?? 'redis://127.0.0.1:6379';
  const redis = options.source
    ? undefined
    : new RedisPubSub(target, {
        graceMs: config.subscriptionGraceMs,
        shardedChannels: config.shardedChannels,
        redisOptions: { retryStrategy: () => 100 },
      });
  const source: PubSubSource = options.source ?? (redis as RedisPubSub);
  // Commands (channel sets, score snapshots, PUBLISH) on a connection of their own, as in main.
  const commands = redis
    ? connectRedis(target, {
        maxRetriesPerRequest: 1,
        commandTimeout: 2_000,
        retryStrategy: () => 100,
      })
    : undefined;
  commands?.on('error', () => undefined);
  // With DATABASE_URL, as in main: LISTEN/NOTIFY on a connection of its own.
  const postgres = config.databaseUrl
    ? new PostgresNotify(config.databaseUrl, { minBackoffMs: 50, maxBackoffMs: 500 })
    : undefined;
  const streamer = createStreamer({
    config,
    source,
    ...(commands
      ? {
          redis: commands,
          publisher: shardedPublisher(commands, shardedChannels(config.shardedChannels)),
        }
      : {}),
    ...(options.protocols ? { protocols: options.protocols } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(postgres ? { postgres } : {}),
  });
  const address = await streamer.listen();
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    config,
    streamer,
    source,
    postgres,
    async close() {
      await streamer.close();
      await redis?.close();
      await postgres?.close();
      commands?.disconnect();
    },
  };
}
