// The per-channel caches of CountedSource and RedisPubSub: an entry lives only while
// its channel has subscribers (and the grace period), so per-user channels cannot grow them.
import type { Redis } from 'ioredis';
import type { Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PubSubSource } from '../../src/core/message.js';
import { CountedSource } from '../../src/sources/CountedSource.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { RedisPubSub } from '../../src/sources/RedisPubSub.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/sse.js';

const CHANNELS = 100_000;
const PATTERNS = 1_000;
// Subscribing in batches keeps the Redis case at a few seconds: each batch is
// pipelined and then flushed with one PING instead of a round trip per channel.
const BATCH = 1_000;

/** A bus that does not count its own messages, as a source from outside this package may not. */
function uncountedBus(): { bus: MemoryBus; source: PubSubSource } {
  const bus = new MemoryBus();
  return {
    bus,
    source: { channel: (name) => bus.channel(name), pattern: (glob) => bus.pattern(glob) },
  };
}

describe('CountedSource cache', () => {
  it('drops every channel and pattern once its last subscriber leaves (100,000 channels over a source that does not count)', () => {
    const { bus, source: inner } = uncountedBus();
    const source = new CountedSource(inner);
    expect(source.cacheSize).toBe(0);
    for (let start = 0; start < CHANNELS; start += BATCH) {
      const subs: Subscription[] = [];
      for (let i = start; i < start + BATCH; i++) {
        // Two subscribers of one channel share one entry and one bus subscription.
        subs.push(source.channel(`user.${i}`).subscribe(), source.channel(`user.${i}`).subscribe());
      }
      if (start === 0) {
        expect(source.cacheSize).toBe(BATCH);
        expect(bus.subscriptionCount()).toBe(BATCH);
      }
      for (const s of subs) s.unsubscribe();
    }
    for (let i = 0; i < PATTERNS; i++) source.pattern(`user.${i}.*`).subscribe().unsubscribe();
    expect(source.cacheSize).toBe(0);
    expect(bus.subscriptionCount()).toBe(0);
  });

  it('a channel subscribed again after eviction receives and counts each message once', () => {
    const { bus, source: inner } = uncountedBus();
    const source = new CountedSource(inner);
    // A stream obtained before the eviction (as feeds hold theirs) must still work
    // after it, and must not become a second, separately counted stream.
    const held = source.channel('user.7');
    held.subscribe().unsubscribe();
    expect(source.cacheSize).toBe(0);

    const fresh: string[] = [];
    const old: string[] = [];
    const a = source.channel('user.7').subscribe((m) => fresh.push(m.payload));
    const b = held.subscribe((m) => old.push(m.payload));
    expect(source.cacheSize).toBe(1);
    expect(bus.publish('user.7', 'one')).toBe(1);
    expect(bus.publish('user.7', 'two')).toBe(1);
    expect(fresh).toEqual(['one', 'two']);
    expect(old).toEqual(['one', 'two']);
    expect(source.received()).toBe(2);
    a.unsubscribe();
    b.unsubscribe();
    expect(source.cacheSize).toBe(0);
    expect(bus.subscriptionCount()).toBe(0);
  });

  it('passes a source that counts its own messages through, with no layer and no cache', () => {
    const bus = new MemoryBus();
    const source = new CountedSource(bus);
    const got: string[] = [];
    const subs = [
      source.channel('room.1').subscribe((m) => got.push(`a ${m.payload}`)),
      source.channel('room.1').subscribe((m) => got.push(`b ${m.payload}`)),
      source.pattern('room.*').subscribe((m) => got.push(`p ${m.payload}`)),
    ];
    expect(source.cacheSize).toBe(0);
    expect(bus.publish('room.1', 'hi')).toBe(3);
    expect(bus.publish('room.2', 'there')).toBe(1);
    expect(bus.publish('elsewhere', 'nobody')).toBe(0);
    expect(got).toEqual(['a hi', 'b hi', 'p hi', 'p there']);
    // Once per subscribed channel or pattern a message reached, as Redis delivers it.
    expect(source.received()).toBe(3);
    for (const s of subs) s.unsubscribe();
    expect(bus.subscriptionCount()).toBe(0);
  });
});

describe('RedisPubSub caches', () => {
  let redis: TestRedis;
  let cmd: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    cmd = redis.client();
  });

  afterAll(async () => {
    await redis.stop();
  });

  const numsub = async (...channels: string[]) =>
    ((await cmd.pubsub('NUMSUB', ...channels)) as (string | number)[])
      .filter((_, i) => i % 2 === 1)
      .map(Number);
  const numpat = async () => Number(await cmd.pubsub('NUMPAT'));
  const channelsLike = async (glob: string) => (await cmd.pubsub('CHANNELS', glob)) as string[];

  /** Opens and closes `count` channels named `prefix.<i>`, and PATTERNS patterns. */
  async function churn(source: RedisPubSub, prefix: string, count: number): Promise<void> {
    for (let start = 0; start < count; start += BATCH) {
      const subs: Subscription[] = [];
      for (let i = start; i < Math.min(start + BATCH, count); i++) {
        subs.push(source.channel(`${prefix}.${i}`).subscribe());
      }
      for (const s of subs) s.unsubscribe();
      // Replies come in order: once the PING is answered, Redis has every command before it.
      await source.connection.ping();
    }
    for (let i = 0; i < PATTERNS; i++) {
      source.pattern(`${prefix}.p${i}.*`).subscribe().unsubscribe();
    }
    await source.connection.ping();
  }

  /** Checks, on a separate connection, that Redis holds no subscription of the churn. */
  async function expectNoneLeft(prefix: string, count: number): Promise<void> {
    expect(await channelsLike(`${prefix}.*`)).toEqual([]);
    expect(
      await numsub(`${prefix}.0`, `${prefix}.${count >> 1}`, `${prefix}.${count - 1}`),
    ).toEqual([0, 0, 0]);
    expect(await numpat()).toBe(0);
  }

  /** Subscribes to an evicted channel again, fresh and through a stream held from before. */
  async function expectResubscribeWorks(
    source: RedisPubSub,
    name: string,
    held: ReturnType<RedisPubSub['channel']>,
  ): Promise<void> {
    const fresh: string[] = [];
    const old: string[] = [];
    source.channel(name).subscribe((m) => fresh.push(m.payload));
    held.subscribe((m) => old.push(m.payload));
    expect(source.cacheSizes()).toEqual({ listeners: 1, shared: 1, waiting: 0 });
    await waitUntil(async () => (await numsub(name))[0] === 1, 5_000, `SUBSCRIBE ${name}`);
    await cmd.publish(name, 'again');
    await waitUntil(() => fresh.length === 1 && old.length === 1, 5_000, 'the message');
    expect(fresh).toEqual(['again']);
    expect(old).toEqual(['again']);
  }

  it('drops listeners and shared streams of 100,000 channels as they close, with graceMs 0', async () => {
    const source = new RedisPubSub(redis.url, { graceMs: 0 });
    try {
      await waitUntil(() => source.state$.value === 'ready', 5_000, 'ready');
      const held = source.channel('evict.42');
      await churn(source, 'evict', CHANNELS);
      expect(source.cacheSizes()).toEqual({ listeners: 0, shared: 0, waiting: 0 });
      await expectNoneLeft('evict', CHANNELS);
      await expectResubscribeWorks(source, 'evict.42', held);
    } finally {
      await source.close();
    }
    expect(source.cacheSizes()).toEqual({ listeners: 0, shared: 0, waiting: 0 });
  });

  it('keeps an entry through the grace period and drops it after', async () => {
    const graceMs = 50;
    const source = new RedisPubSub(redis.url, { graceMs });
    try {
      await waitUntil(() => source.state$.value === 'ready', 5_000, 'ready');
      const held = source.channel('graced.42');
      held.subscribe().unsubscribe();
      // Within the grace period nothing is dropped, so a returning client costs nothing.
      expect(source.cacheSizes()).toEqual({ listeners: 1, shared: 1, waiting: 0 });
      await churn(source, 'graced', CHANNELS);
      await waitUntil(
        () => source.cacheSizes().listeners === 0 && source.cacheSizes().shared === 0,
        10_000,
        'the caches to empty after the grace period',
      );
      await source.connection.ping();
      await expectNoneLeft('graced', CHANNELS);
      await expectResubscribeWorks(source, 'graced.42', held);
    } finally {
      await source.close();
    }
    expect(source.cacheSizes()).toEqual({ listeners: 0, shared: 0, waiting: 0 });
  });
});
