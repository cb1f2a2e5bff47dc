#!/usr/bin/env node
// Publishes emojitracker-like demo traffic into a real Redis, as emojitracker's
// feeder would: a score update, a tweet per use, and the emojitrack_score ranking.
//   npm run feed -- --rate 250 [--redis redis://127.0.0.1:6379] [--seconds 60]
import { Redis } from 'ioredis';
import { bufferTime, filter } from 'rxjs';
import { loadConfig } from '../core/config.js';
import { StreamerError } from '../core/errors.js';
import { SCORE_CHANNEL, demoFeed } from '../protocols/emojitrack/demoFeed.js';
import { commandLine } from './commandLine.js';
import type { Fail } from './commandLine.js';

const USAGE = `usage: npm run feed -- [--rate N] [--redis URL] [--seconds N] [--seed N]
  --rate     emoji uses per second (default 250)
  --redis    Redis URL (default REDIS_URL, else redis://127.0.0.1:6379)
  --seconds  stop after this many seconds (default: run until interrupted)
  --seed     random seed, to repeat a run exactly`;

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

let redisUrl = args.redis;
if (!redisUrl) {
  try {
    redisUrl = loadConfig().redisUrl ?? 'redis://127.0.0.1:6379';
  } catch (err) {
    if (!(err instanceof StreamerError)) throw err;
    fail(err.message);
  }
}
const rate = number('rate', args.rate, 250);
const seconds = number('seconds', args.seconds, 0);
const seed = number('seed', args.seed, Date.now() % 2 ** 31);

const redis = new Redis(redisUrl, {
  maxRetriesPerRequest: null,
  connectionName: 'rx-streamer:feed',
});
redis.on('error', (err: Error) => process.stderr.write(`feed: redis: ${err.message}\n`));

let published = 0;
// One pipeline per 20 ms batch keeps the feeder cheap at high rates.
const feeding = demoFeed({ rate, seed })
  .pipe(
    bufferTime(20),
    filter((batch) => batch.length > 0),
  )
  .subscribe((batch) => {
    const pipeline = redis.pipeline();
    for (const p of batch) {
      pipeline.publish(p.channel, p.payload);
      if (p.channel === SCORE_CHANNEL) pipeline.zincrby('emojitrack_score', 1, p.payload);
    }
    published += batch.length;
    void pipeline.exec();
  });

process.stdout.write(
  `feed: publishing ${rate} emoji uses/s to ${redisUrl.replace(/\/\/[^@]*@/, '//***@')}\n`,
);
const report = setInterval(() => {
  process.stdout.write(`feed: ${published} messages published\n`);
}, 10_000);

function stop(): void {
  feeding.unsubscribe();
  clearInterval(report);
  void redis.quit().finally(() => {
    process.stdout.write(`feed: done, ${published} messages published\n`);
  });
}
if (seconds > 0) setTimeout(stop, seconds * 1000);
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
