// RedisPubSub.live() against a real redis-server: it fires only once Redis has
// confirmed the SUBSCRIBE, so a message published right after is delivered; it
// waits across an unsubscribe/subscribe and a restart, and keeps nothing once
// nobody waits.
import type { Redis } from 'ioredis';
import { firstValueFrom, take, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisPubSub } from '../../src/sources/RedisPubSub.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/sse.js';

let redis: TestRedis;
let pub: Redis;

beforeAll(async () => {
  redis = await startRedis();
  pub = redis.client();
});

afterAll(async () => {
  await redis.stop();
});

const live = (source: RedisPubSub, channel: string) =>
  firstValueFrom(source.live(channel).pipe(timeout(5_000)));

describe('RedisPubSub.live', () => {
  it('fires after the SUBSCRIBE is confirmed: a message published at once is delivered, 200 times', async () => {
    const source = new RedisPubSub(redis.url, { graceMs: 0 });
    try {
      await firstValueFrom(source.state$.pipe(take(2)));
      for (let i = 0; i < 200; i++) {
        const channel = `live.race.${i}`;
        const got = firstValueFrom(source.channel(channel).pipe(take(1), timeout(5_000)));
        await live(source, channel);
        await pub.publish(channel, `m${i}`);
        expect((await got).payload).toBe(`m${i}`);
      }
      await waitUntil(() => source.cacheSizes().listeners === 0, 5_000, 'all released');
      expect(source.cacheSizes().waiting).toBe(0);
    } finally {
      await source.close();
    }
  });

  it('is at once for a channel already live, and waits again after it was dropped', async () => {
    const source = new RedisPubSub(redis.url, { graceMs: 0 });
    try {
      const first = source.channel('live.again').subscribe();
      await live(source, 'live.again');
      await live(source, 'live.again');
      first.unsubscribe();
      let fired = false;
      const waiting = source.live('live.again').subscribe(() => (fired = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(fired).toBe(false);
      const second = source.channel('live.again').subscribe();
      await waitUntil(() => fired, 5_000, 'live after the new SUBSCRIBE');
      waiting.unsubscribe();
      second.unsubscribe();
    } finally {
      await source.close();
    }
  });

  it('forgets a waiter nobody waits on', async () => {
    const source = new RedisPubSub(redis.url, { graceMs: 0 });
    try {
      const sub = source.live('live.nobody').subscribe();
      expect(source.cacheSizes().waiting).toBe(1);
      sub.unsubscribe();
      expect(source.cacheSizes().waiting).toBe(0);
    } finally {
      await source.close();
    }
  });

  it('waits across a Redis restart, and fires once the channel is subscribed again', async () => {
    const own = await startRedis();
    const source = new RedisPubSub(own.url, {
      graceMs: 0,
      redisOptions: { retryStrategy: () => 100 },
    });
    try {
      const messages: string[] = [];
      const sub = source.channel('live.restart').subscribe((m) => messages.push(m.payload));
      await live(source, 'live.restart');
      await own.kill(true);
      await waitUntil(() => !source.readiness().ready, 5_000, 'not ready');
      let fired = false;
      const waiting = source.live('live.restart').subscribe(() => (fired = true));
      expect(fired).toBe(false);
      await own.restart();
      await waitUntil(() => fired, 10_000, 'live after the restart');
      await own.client().publish('live.restart', 'back');
      await waitUntil(() => messages.includes('back'), 5_000, 'the message after the restart');
      waiting.unsubscribe();
      sub.unsubscribe();
    } finally {
      await source.close();
      await own.stop();
    }
  });

  it('reports readiness changes', async () => {
    const own = await startRedis();
    const source = new RedisPubSub(own.url, { redisOptions: { retryStrategy: () => 100 } });
    const seen: boolean[] = [];
    const sub = source.readinessChanges().subscribe((r) => seen.push(r.ready));
    try {
      await waitUntil(() => seen.at(-1) === true, 5_000, 'ready');
      await own.kill(true);
      await waitUntil(() => seen.at(-1) === false, 5_000, 'not ready');
      await own.restart();
      await waitUntil(() => seen.at(-1) === true, 10_000, 'ready again');
      // Only changes: no two equal values in a row.
      expect(seen.every((v, i) => i === 0 || v !== seen[i - 1])).toBe(true);
    } finally {
      sub.unsubscribe();
      await source.close();
      await own.stop();
    }
  });
});
