// The Redis status hash sink: each status document it receives is written with
// HSET admin_stream_status <node> <json>, which is how an admin dashboard
// collects every node. The node's entry is removed when the sink closes.
import type { RedisOptions } from 'ioredis';
import type { Observer } from 'rxjs';
import { silentLogger } from '../core/logger.js';
import type { Logger } from '../core/logger.js';
import { connectRedis } from '../sources/redisClient.js';
import type { RedisTarget } from '../sources/redisClient.js';

export const STATUS_HASH_KEY = 'admin_stream_status';

export interface StatusHashOptions {
  /** A Redis URL, or a Cluster's seed nodes. */
  readonly redisUrl: RedisTarget;
  readonly node: string;
  readonly key?: string;
  readonly logger?: Logger;
  readonly redisOptions?: RedisOptions;
}

export interface StatusHashSink extends Observer<string> {
  /** Documents written so far. */
  readonly written: number;
  /** Removes this node's entry and closes the connection; resolves within `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
}

export function statusHash(options: StatusHashOptions): StatusHashSink {
  const { node, key = STATUS_HASH_KEY } = options;
  const log = (options.logger ?? silentLogger).child({ component: 'status-hash' });
  const redis = connectRedis(options.redisUrl, {
    connectionName: 'rx-streamer:status',
    // A report that cannot go now is superseded by the next one: never queue them.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
    ...options.redisOptions,
  });
  let failing = false;
  redis.on('error', (err: Error) => {
    if (!failing) log.warn('status hash connection error', { error: err.message });
    failing = true;
  });
  redis.on('ready', () => {
    if (failing) log.info('status hash connection ready again');
    failing = false;
  });

  let written = 0;
  let inFlight = false;
  let closing: Promise<void> | undefined;
  return {
    get written() {
      return written;
    },
    next(json: string) {
      if (closing || inFlight || redis.status !== 'ready') return;
      inFlight = true;
      redis
        .hset(key, node, json)
        .then(() => written++)
        .catch((err: unknown) => {
          if (!failing) log.warn('status report not written', { error: (err as Error).message });
          failing = true;
        })
        .finally(() => (inFlight = false));
    },
    error(err: unknown) {
      log.error('status reports failed; no more reports', { error: String(err) });
    },
    complete() {
      // close() removes the entry and quits.
    },
    close(timeoutMs = 2_000) {
      closing ??= new Promise<void>((resolve) => {
        const bound = setTimeout(() => {
          redis.disconnect();
          resolve();
        }, timeoutMs);
        bound.unref();
        const done = () => {
          clearTimeout(bound);
          resolve();
        };
        if (redis.status !== 'ready') {
          redis.disconnect();
          done();
          return;
        }
        redis
          .hdel(key, node)
          .then(() => redis.quit())
          .catch(() => redis.disconnect())
          .finally(done);
      });
      return closing;
    },
  };
}
