// RedisPubSub against a real redis-server: one subscription per channel however
// many subscribers, released after the grace period, and surviving restarts.
import type { Redis } from 'ioredis';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusMessage } from '../../src/core/message.js';
import { RedisPubSub } from '../../src/sources/RedisPubSub.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/sse.js';

let redis: TestRedis;
let pub: Redis;

const numsub = async (channel: string) =>
  Number(((await pub.pubsub('NUMSUB', channel)) as [string, number])[1]);
const numpat = async () => Number(await pub.pubsub('NUMPAT'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  redis = await startRedis();
  pub = redis.client();
});

afterAll(async () => {
  await redis.stop();
});

describe('RedisPubSub', () => {
  it('delivers channel messages with channel, payload and receive time', async () => {
    const source = new RedisPubSub(redis.url, { graceMs: 0 });
    try {
      const got = firstValueFrom(source.channel('t.one').pipe(take(2), toArray()));
      await waitUntil(async () => (await numsub('t.one')) === 1, 5_000, 'SUBSCRIBE');
      const before = Date.now();
      await pub.publish('t.one', 'a');
      await pub.publish('t.one', '{"x": [1, 2]}');
      const messages: BusMessage[] = await got;
      expect(messages.map((m) => [m.channel, m.payload])).toEqual([
        ['t.one', 'a'],
        ['t.one', '{"x": [1, 2]}'],
      ]);
      for (const m of messages) expect(m.receivedAt).toBeGreaterThanOrEqual(before - 5);
    } finally {
      await source.close();
    }
  });

  it('shares one SUBSCRIBE among subscribers and releases it after the grace period', async () => {
    const source = new RedisPubSub(redis.url, { graceMs: 400 });
    try {
      const seen: string[][] = [[], [], []];
      const subs = seen.map((list) =>
        source.channel('t.shared').subscribe((m) => list.push(m.payload)),
      );
      await waitUntil(async () => (await numsub('t.shared')) === 1, 5_000, 'SUBSCRIBE');
      await pub.publish('t.shared', 'x');
      await waitUntil(() => seen.every((l) => l.length === 1), 5_000, 'every subscriber');
      expect(await numsub('t.shared')).toBe(1);

      for (const s of subs) s.unsubscribe();
      await sleep(100);
      expect(await numsub('t.shared')).toBe(1); // still within the grace period
      // A subscriber arriving within the grace period reuses the subscription.
      const again = source.channel('t.shared').subscribe();
      await sleep(400);
      expect(await numsub('t.shared')).toBe(1);
      again.unsubscribe();
      await waitUntil(
        async () => (await numsub('t.shared')) === 0,
        5_000,
        'UNSUBSCRIBE after the grace',
      );
    } finally {
      await source.close();
    }
  });

  it('gives a subscriber that joins during a message the next one, and one that leaves during it nothing more', async () => {
    const source = new RedisPubSub(redis.url, { graceMs: 0 });
    try {
      const first: string[] = [];
      const late: string[] = [];
      const leaving: string[] = [];
      const leaver = source.channel('t.turn').subscribe((m) => leaving.push(m.payload));
      let joined = false;
      const sub = source.channel('t.turn').subscribe((m) => {
        first.push(m.payload);
        leaver.unsubscribe();
        if (joined) return;
        joined = true;
        sub.add(source.channel('t.turn').subscribe((n) => late.push(n.payload)));
      });
      await waitUntil(async () => (await numsub('t.turn')) === 1, 5_000, 'SUBSCRIBE');
      await pub.publish('t.turn', 'one');
      await pub.publish('t.turn', 'two');
      await waitUntil(() => first.length === 2 && late.length === 1, 5_000, 'both messages');
      expect(late).toEqual(['two']);
      // Unsubscribed by a later subscriber during the first message: it got that one, not the next.
      expect(leaving).toEqual(['one']);
      sub.unsubscribe();
      await waitUntil(async () => (await numsub('t.turn')) === 0, 5_000, 'UNSUBSCRIBE');
    } finally {
      await source.close();
    }
  });

  it('pattern subscriptions match like Redis and are released', async () => {
    const source = new RedisPubSub(redis.url, { graceMs: 0 });
    try {
      const got: BusMessage[] = [];
      const sub = source.pattern('t.p.*').subscribe((m) => got.push(m));
      await waitUntil(async () => (await numpat()) === 1, 5_000, 'PSUBSCRIBE');
      await pub.publish('t.p.1F602', 'one');
      await pub.publish('t.q.1F602', 'not matched');
      await pub.publish('t.p.2665', 'two');
      await waitUntil(() => got.length === 2, 5_000, 'two pattern messages');
      expect(got.map((m) => `${m.channel}=${m.payload}`)).toEqual([
        't.p.1F602=one',
        't.p.2665=two',
      ]);
      sub.unsubscribe();
      await waitUntil(async () => (await numpat()) === 0, 5_000, 'PUNSUBSCRIBE');
    } finally {
      await source.close();
    }
  });

  it('starts without Redis, and subscribes once Redis comes up', async () => {
    const late = await startRedis();
    await late.kill();
    const source = new RedisPubSub(late.url, {
      graceMs: 0,
      redisOptions: { retryStrategy: () => 50 },
    });
    try {
      const got: string[] = [];
      source.channel('t.late').subscribe((m) => got.push(m.payload));
      await sleep(200);
      expect(source.state$.value).not.toBe('ready');
      await late.restart();
      const p = late.client();
      await waitUntil(
        async () => Number(((await p.pubsub('NUMSUB', 't.late')) as [string, number])[1]) === 1,
        10_000,
        'SUBSCRIBE',
      );
      await p.publish('t.late', 'hello');
      await waitUntil(() => got.length === 1, 5_000, 'the message');
      expect(source.reconnects).toBe(0);
    } finally {
      await source.close();
      await late.stop();
    }
  });

  it('re-subscribes channels and patterns after Redis restarts, counting the reconnect', async () => {
    const own = await startRedis();
    const source = new RedisPubSub(own.url, {
      graceMs: 0,
      redisOptions: { retryStrategy: () => 50 },
    });
    try {
      const got: string[] = [];
      source.channel('t.r').subscribe((m) => got.push(m.payload));
      source.pattern('t.rp.*').subscribe((m) => got.push(m.payload));
      const states: string[] = [];
      source.state$.subscribe((s) => states.push(s));
      await waitUntil(() => source.state$.value === 'ready', 5_000, 'ready');
      await own.kill(true);
      await waitUntil(() => source.state$.value === 'reconnecting', 5_000, 'reconnecting');
      await own.restart();
      const p = own.client();
      await waitUntil(
        async () =>
          Number(((await p.pubsub('NUMSUB', 't.r')) as [string, number])[1]) === 1 &&
          Number(await p.pubsub('NUMPAT')) === 1,
        10_000,
        're-subscribed',
      );
      await p.publish('t.r', 'after');
      await p.publish('t.rp.x', 'pattern after');
      await waitUntil(() => got.length === 2, 5_000, 'messages after the restart');
      expect(got).toEqual(['after', 'pattern after']);
      expect(source.reconnects).toBe(1);
      expect(states).toContain('reconnecting');
    } finally {
      await source.close();
      await own.stop();
    }
  });

  it('close() completes open streams and quits', async () => {
    const source = new RedisPubSub(redis.url, { graceMs: 0 });
    let completed = false;
    source.channel('t.close').subscribe({ complete: () => (completed = true) });
    await waitUntil(async () => (await numsub('t.close')) === 1, 5_000, 'SUBSCRIBE');
    await source.close();
    expect(completed).toBe(true);
    expect(source.state$.value).toBe('closed');
    await waitUntil(async () => (await numsub('t.close')) === 0, 5_000, 'connection gone');
  });
});
