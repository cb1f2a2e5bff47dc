// Shared history reads (CoalescedHistory) against a real redis-server: a
// burst of recoveries of one channel costs a few reads, each answered exactly
// as a read of its own would be — recovered with what followed its own
// offset, or not (another epoch, the front of the history gone, too far
// behind) — and a read never starts before the calls it answers.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedAfter } from '../../src/core/sharedAfter.js';
import type { ChannelHistory, Position, Recovery } from '../../src/sources/channelHistory.js';
import { CoalescedHistory } from '../../src/sources/CoalescedHistory.js';
import { RedisHistory } from '../../src/sources/RedisHistory.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';

let redis: TestRedis;
let commands: Redis;
let history: RedisHistory;

beforeAll(async () => {
  redis = await startRedis();
  commands = redis.client();
  history = new RedisHistory(commands, { size: 50, ttlS: 300 });
});

afterAll(async () => {
  await redis?.stop();
});

let n = 0;
const fresh = () => `coalesced:${++n}`;

/** The inner history, counting the reads that reach it. */
function counted(inner: ChannelHistory): { history: ChannelHistory; reads: () => number } {
  let reads = 0;
  return {
    history: {
      publish: (c, p) => inner.publish(c, p),
      top: (c) => (reads++, inner.top(c)),
      recover: (c, s, m) => (reads++, inner.recover(c, s, m)),
    },
    reads: () => reads,
  };
}

async function publishMany(channel: string, count: number): Promise<Position> {
  let last: Position = { epoch: '', offset: 0 };
  for (let i = 1; i <= count; i++) last = await history.publish(channel, `m${i}`);
  return last;
}

describe('CoalescedHistory', () => {
  it('answers 300 recoveries at once with a few reads, each exactly as its own read would', async () => {
    const channel = fresh();
    const top = await publishMany(channel, 40);
    const inner = counted(history);
    const shared = new CoalescedHistory(inner.history);
    const sinces = Array.from({ length: 300 }, (_, i) => 10 + (i % 30));
    const got = await Promise.all(
      sinces.map((offset) => shared.recover(channel, { epoch: top.epoch, offset }, 25)),
    );
    const alone = await Promise.all(
      [...new Set(sinces)].map(async (offset) => [
        offset,
        await history.recover(channel, { epoch: top.epoch, offset }, 25),
      ]),
    );
    const expected = new Map(alone as [number, Recovery][]);
    sinces.forEach((offset, i) => expect(got[i], `since ${offset}`).toEqual(expected.get(offset)));
    // Some within 25 of the top, some not: both kinds were answered.
    expect(got.filter((r) => r.recovered).length).toBeGreaterThan(0);
    expect(got.filter((r) => !r.recovered).length).toBeGreaterThan(0);
    expect(inner.reads()).toBeLessThanOrEqual(3);
  });

  it('tells a client whose part of the history is gone, and still recovers those after it', async () => {
    const channel = fresh();
    const top = await publishMany(channel, 70);
    // Kept: 21…70 (HISTORY 50). 5 is gone; 30 and 60 are not.
    const shared = new CoalescedHistory(history);
    const [gone, mid, late, wrong, ahead] = await Promise.all([
      shared.recover(channel, { epoch: top.epoch, offset: 5 }, 100),
      shared.recover(channel, { epoch: top.epoch, offset: 30 }, 100),
      shared.recover(channel, { epoch: top.epoch, offset: 60 }, 100),
      shared.recover(channel, { epoch: 'another', offset: 60 }, 100),
      shared.recover(channel, { epoch: top.epoch, offset: 71 }, 100),
    ]);
    expect(gone).toMatchObject({ recovered: false, top });
    expect(mid).toMatchObject({ recovered: true, top });
    expect((mid as { publications: unknown[] }).publications).toHaveLength(40);
    expect(late).toMatchObject({ recovered: true, top });
    expect((late as { publications: { offset: number }[] }).publications[0]?.offset).toBe(61);
    expect(wrong).toMatchObject({ recovered: false, top });
    expect(ahead).toMatchObject({ recovered: false, top });
  });

  it('answers tops with the reads, and a read starts only after the calls it answers', async () => {
    const channel = fresh();
    const first = await publishMany(channel, 3);
    const inner = counted(history);
    const shared = new CoalescedHistory(inner.history);
    const early = shared.top(channel);
    // Published while the first read is on its way: the calls after it must see it.
    const publishing = history.publish(channel, 'later');
    const after = [shared.top(channel), shared.top(channel)];
    await publishing;
    expect((await early).offset).toBeGreaterThanOrEqual(first.offset);
    for (const t of await Promise.all(after)) expect(t.offset).toBe(first.offset + 1);
    expect(inner.reads()).toBe(2);
  });

  it('passes a failed read on to every call it was to answer, and reads again for the next', async () => {
    let failing = true;
    const shared = new CoalescedHistory({
      publish: (c, p) => history.publish(c, p),
      top: (c) => (failing ? Promise.reject(new Error('down')) : history.top(c)),
      recover: (c, s, m) => history.recover(c, s, m),
    });
    const channel = fresh();
    const calls = [shared.top(channel), shared.top(channel)];
    await expect(calls[0]).rejects.toThrow('down');
    await expect(calls[1]).rejects.toThrow('down');
    failing = false;
    expect((await shared.top(channel)).offset).toBe(0);
  });
});

describe('sharedAfter', () => {
  it('runs once for the calls made while a run is on its way, always starting after them', async () => {
    let runs = 0;
    const started: number[] = [];
    let release: (() => void) | undefined;
    const shared = sharedAfter(
      () =>
        new Promise<void>((resolve) => {
          started.push(++runs);
          release = resolve;
        }),
    );
    const first = shared();
    const burst = [shared(), shared(), shared()];
    expect(runs).toBe(1);
    release?.();
    await first;
    // The burst waits for a run that started after it.
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(2);
    release?.();
    await Promise.all(burst);
    expect(started).toEqual([1, 2]);
  });
});
