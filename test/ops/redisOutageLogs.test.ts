// A Redis outage in the logs of the real process: a redis-server the test
// starts, stops for a few seconds (many retries) and starts again, twice. Each
// outage is one warn line, whatever the number of tries, and one line when
// Redis is back; the retries in between are debug lines only. (The
// subscriber connection's lines: every protocol's Redis state comes from it.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '../support/process.js';
import type { LogLine, ServerProcess } from '../support/process.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/sse.js';

let redis: TestRedis;
let server: ServerProcess | undefined;

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(async () => {
  await redis.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Redis outages in the logs', () => {
  it('one warn line per outage and one line when it is back, however many retries', async () => {
    const proc = await startServerProcess({
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: redis.url,
      LOG_LEVEL: 'debug',
    });
    server = proc;
    const lines = (message: string) => proc.logs().filter((l: LogLine) => l.message === message);
    const queueWarnings = () =>
      proc.logs().filter((l: LogLine) => l.message.startsWith('queue ') && l.level === 'warn');
    const redisLines = () =>
      proc.logs().filter((l: LogLine) => l.component === 'redis-pubsub' && l.level !== 'debug');
    await waitUntil(() => lines('redis ready').length === 1, 10_000, 'redis ready');

    for (const outage of [1, 2]) {
      await redis.kill();
      await waitUntil(
        () => lines('redis reconnecting').length === outage,
        10_000,
        `the outage ${outage} warning`,
      );
      // Long enough for several tries (every 100 ms, then 200 ms, …, up to 2 s).
      await sleep(3_000);
      const retries = proc.logs().filter((l) => l.message === 'redis still unreachable');
      expect(retries.length).toBeGreaterThan(2 * (outage - 1));
      await redis.restart();
      await waitUntil(
        () => lines('redis reconnected').length === outage,
        10_000,
        `redis back after outage ${outage}`,
      );
    }
    // Settle: nothing more is logged once it is back.
    await sleep(500);

    expect(redisLines().map((l) => `${l.level} ${l.message}`)).toEqual([
      'info redis ready',
      'warn redis reconnecting',
      'info redis reconnected',
      'warn redis reconnecting',
      'info redis reconnected',
    ]);
    // The warning says what went wrong; the line when it is back, how long it was down and how many tries.
    for (const back of lines('redis reconnected')) {
      expect(back).toMatchObject({
        downMs: expect.any(Number) as number,
        tries: expect.any(Number) as number,
      });
      expect(back.tries as number).toBeGreaterThan(2);
    }
    for (const warning of lines('redis reconnecting')) {
      expect(warning).toMatchObject({ level: 'warn', error: expect.any(String) as string });
    }
    // The site-stream queue's own commands: at most one warning per outage, each
    // followed by one line when the queue works again.
    await waitUntil(
      () => lines('queue working again').length === queueWarnings().length,
      10_000,
      'the queue working again',
    );
    const queueLines = proc
      .logs()
      .filter((l) => l.message.startsWith('queue ') && l.level !== 'debug')
      .map((l) => (l.level === 'warn' ? 'warn' : `${l.level} ${l.message}`));
    expect(queueWarnings().length).toBeLessThanOrEqual(2);
    expect(queueLines).toEqual(queueWarnings().flatMap(() => ['warn', 'info queue working again']));
  }, 90_000);

  it('a Redis that is not up at start: one warn line, and `redis ready` once it is', async () => {
    await redis.kill();
    const proc = await startServerProcess({
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: redis.url,
    });
    server = proc;
    await waitUntil(
      () => proc.logs().some((l) => l.message === 'redis reconnecting'),
      10_000,
      'the warning',
    );
    await sleep(2_500);
    await redis.restart();
    await waitUntil(
      () => proc.logs().some((l) => l.message === 'redis ready'),
      10_000,
      'redis ready',
    );
    await sleep(300);
    const redisLines = proc.logs().filter((l) => l.component === 'redis-pubsub');
    expect(redisLines.map((l) => `${l.level} ${l.message}`)).toEqual([
      'warn redis reconnecting',
      'info redis ready',
    ]);
    expect(redisLines[0]).toMatchObject({
      error: expect.stringContaining('ECONNREFUSED') as string,
    });
    expect(redisLines[1]).toMatchObject({ tries: expect.any(Number) as number });
    expect(redisLines[1]?.tries as number).toBeGreaterThan(2);
  }, 90_000);
});
