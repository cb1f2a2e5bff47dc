#!/usr/bin/env node
// Publishes emojitracker-like demo traffic into a real Redis, as emojitracker's
// feeder would: a score update, a tweet per use, and the emojitrack_score ranking.
// On the server's Redis or Redis Cluster, a sharded channel SPUBLISHed as the server does.
//   npm run feed -- --rate 250 [--redis redis://127.0.0.1:6379] [--seconds 60]
import { bufferTime, filter } from 'rxjs';
import { SCORE_CHANNEL, demoFeed } from '../protocols/emojitrack/demoFeed.js';
import { connectRedis, shardedChannels } from '../sources/redisClient.js';
import { shardedPublisher } from '../sources/shardedPublisher.js';
import { commandLine, redisTargetOf, serverConfig } from './commandLine.js';
import type { Fail } from './commandLine.js';

const USAGE = `usage: npm run feed -- [--rate N] [--redis URL] [--seconds N] [--seed N]
  --rate     emoji uses per second (default 250)
  --redis    Redis URL (default REDIS_URL, or the cluster of REDIS_CLUSTER_NODES,
             else redis://127.0.0.1:6379)
  --seconds  stop after this many seconds (default: run until interrupted)
  --seed     random seed, to repeat a run exactly
  a channel in REDIS_SHARDED_CHANNELS is published with SPUBLISH, as the server does`;

function number(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) fail(`--${name} must be a non-negative number, got "${value}"`);
  return n;
}

const cli = commandLine('feed', USAGE, {
  rate: { type: 'string' },
  redis: { type: 'string' },
  seconds: { type: 'string' },
  seed: { type: 'string' },
});
const args = cli.values;
// Annotated, so that TypeScript knows no code runs after a call.
const fail: Fail = cli.fail;

// The server's own environment: its Redis (or Cluster) and its sharded channels.
const config = serverConfig(fail, true);
const target = redisTargetOf(args.redis, config);
const shown =
  typeof target === 'string'
    ? target.replace(/\/\/[^@]*@/, '//***@')
    : `the cluster of ${target.cluster.map((n) => `${n.host}:${n.port}`).join(',')}`;
const rate = number('rate', args.rate, 250);
const seconds = number('seconds', args.seconds, 0);
const seed = number('seed', args.seed, Date.now() % 2 ** 31);

// Auto-pipelining sends each 20 ms batch in one write per connection (per node
// on a Cluster, where one pipeline may not span slots), which keeps the feeder
// cheap at high rates.
const redis = connectRedis(target, {
  maxRetriesPerRequest: null,
  enableAutoPipelining: true,
  connectionName: 'rx-streamer:feed',
});
redis.on('error', (err: Error) => process.stderr.write(`feed: redis: ${err.message}\n`));
const publisher = shardedPublisher(redis, shardedChannels(config.shardedChannels));
// A command that fails is reported on stderr; the feed keeps going.
const report = (err: Error): void => {
  process.stderr.write(`feed: redis: ${err.message}\n`);
};

let published = 0;
const feeding = demoFeed({ rate, seed })
  .pipe(
    bufferTime(20),
    filter((batch) => batch.length > 0),
  )
  .subscribe((batch) => {
    for (const p of batch) {
      void Promise.resolve(publisher.publish(p.channel, p.payload)).catch(report);
      if (p.channel === SCORE_CHANNEL)
        redis.zincrby('emojitrack_score', 1, p.payload).catch(report);
    }
    published += batch.length;
  });

process.stdout.write(`feed: publishing ${rate} emoji uses/s to ${shown}\n`);
const progress = setInterval(() => {
  process.stdout.write(`feed: ${published} messages published\n`);
}, 10_000);

function stop(): void {
  feeding.unsubscribe();
  clearInterval(progress);
  void redis.quit().finally(() => {
    process.stdout.write(`feed: done, ${published} messages published\n`);
  });
}
if (seconds > 0) setTimeout(stop, seconds * 1000);
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
