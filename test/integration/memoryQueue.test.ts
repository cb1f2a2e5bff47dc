// The in-process queue: a Redis Stream read by one consumer group (ack,
// redelivery after an idle time, dead letters, bounds) without Redis.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryQueue } from '../../src/sources/MemoryQueue.js';
import type { MemoryQueueOptions } from '../../src/sources/MemoryQueue.js';
import { entryTime } from '../../src/sources/QueueStore.js';
import type { QueueStore } from '../../src/sources/QueueStore.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const queues: MemoryQueue[] = [];
function queue(options: Partial<MemoryQueueOptions> = {}): MemoryQueue {
  const q = new MemoryQueue({ maxLen: 100, deadMaxLen: 10, blockMs: 50, ...options });
  queues.push(q);
  return q;
}

afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.close()));
});

describe('MemoryQueue', () => {
  it('keeps at most maxBytes of entries, dropping the oldest, and always the newest', async () => {
    const q = queue({ maxLen: 100_000, maxBytes: 100_000 });
    const data = 'x'.repeat(10_000);
    for (let i = 0; i < 1_000; i++) await q.enqueue({ n: String(i), data });
    // Each entry is a little over 20 KB in the heap (two bytes a character): four fit.
    const kept = await q.readNew();
    expect(kept.map((e) => e.fields.n)).toEqual(['996', '997', '998', '999']);
    await q.enqueue({ data: 'y'.repeat(200_000) });
    expect((await q.lag()).unread).toBe(1);
  });

  it('keeps of a dead letter its fields cut short, with their length', async () => {
    const q = queue();
    await q.enqueue({ data: 'z'.repeat(100_000) });
    const [entry] = await q.readNew();
    await q.deadLetter(entry as NonNullable<typeof entry>, 'too big');
    const [dead] = q.deadLetters();
    expect(dead?.fields.fields?.length).toBeLessThanOrEqual(4_097);
    expect(dead?.fields).toMatchObject({ reason: 'too big', fields_bytes: '100011' });
  });

  it('names its keys like the Redis stream', () => {
    expect(queue().key).toBe('datastream:incoming');
    expect(queue().deadKey).toBe('datastream:incoming:dead');
    expect(queue({ key: 'q' }).deadKey).toBe('q:dead');
  });

  it('assigns strictly increasing <ms>-<seq> ids, also within one ms', async () => {
    const q = queue({ maxLen: 1000 });
    const before = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(await q.enqueue({ n: String(i) }));
    for (const id of ids) expect(id).toMatch(/^\d+-\d+$/);
    expect(entryTime(ids[0] as string)).toBeGreaterThanOrEqual(before);
    const parsed = ids.map((id) => id.split('-').map(Number) as [number, number]);
    for (let i = 1; i < parsed.length; i++) {
      const [pm, ps] = parsed[i - 1] as [number, number];
      const [m, s] = parsed[i] as [number, number];
      expect(m > pm || (m === pm && s > ps)).toBe(true);
    }
    // 200 appends in a row share a millisecond somewhere.
    expect(parsed.some(([, s]) => s > 0)).toBe(true);
  });

  it('copies the fields it is given', async () => {
    const q = queue();
    const fields = { a: '1' };
    await q.enqueue(fields);
    fields.a = '2';
    const [entry] = await q.readNew();
    expect(entry?.fields).toEqual({ a: '1' });
  });

  it('returns an entry enqueued while a read waits', async () => {
    const q = queue({ blockMs: 5_000 });
    const started = Date.now();
    const read = q.readNew();
    await sleep(10);
    const id = await q.enqueue({ a: '1' });
    expect(await read).toEqual([{ id, fields: { a: '1' }, deliveries: 1 }]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('returns [] after blockMs when nothing comes', async () => {
    const q = queue({ blockMs: 50 });
    const started = Date.now();
    expect(await q.readNew()).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('reads only entries the group has not read, oldest first, up to count', async () => {
    const q = queue({ count: 2 });
    const ids = [await q.enqueue({ n: '0' }), await q.enqueue({ n: '1' })];
    ids.push(await q.enqueue({ n: '2' }));
    expect((await q.readNew()).map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect((await q.readNew()).map((e) => e.id)).toEqual(ids.slice(2));
    expect(await q.readNew()).toEqual([]);
  });

  it('wakes two waiting reads on one entry: one gets it, the other []', async () => {
    const q = queue({ blockMs: 5_000 });
    const reads = Promise.all([q.readNew(), q.readNew()]);
    const id = await q.enqueue({ a: '1' });
    const [first, second] = await reads;
    expect(first?.map((e) => e.id)).toEqual([id]);
    expect(second).toEqual([]);
  });

  it('acks: removes pending entries and returns how many were pending', async () => {
    const q = queue();
    const a = await q.enqueue({ n: 'a' });
    const b = await q.enqueue({ n: 'b' });
    const c = await q.enqueue({ n: 'c' });
    await q.readNew();
    expect((await q.lag()).pending).toBe(3);
    expect(await q.ack([a, b, 'nope-0'])).toBe(2);
    expect(await q.ack([a])).toBe(0);
    expect(await q.ack([])).toBe(0);
    expect((await q.lag()).pending).toBe(1);
    await q.ack([c]);
    expect(await q.claim(0, 10)).toEqual([]);
  });

  it('claims an unacked entry after minIdleMs with deliveries 2, and not before', async () => {
    const q = queue();
    const id = await q.enqueue({ a: '1' });
    const acked = await q.enqueue({ a: '2' });
    await q.readNew();
    await q.ack([acked]);
    expect(await q.claim(60, 10)).toEqual([]);
    await sleep(70);
    expect(await q.claim(60, 10)).toEqual([{ id, fields: { a: '1' }, deliveries: 2 }]);
    // The claim was a delivery: idle again from now.
    expect(await q.claim(60, 10)).toEqual([]);
    await sleep(70);
    expect((await q.claim(60, 10)).map((e) => e.deliveries)).toEqual([3]);
  });

  it('claims oldest first, up to count', async () => {
    const q = queue();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await q.enqueue({ n: String(i) }));
    await q.readNew();
    expect((await q.claim(0, 2)).map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect((await q.claim(0, 10)).map((e) => e.id)).toEqual(ids);
  });

  it('trims the oldest beyond maxLen, and does not claim a pending entry trimmed away', async () => {
    const q = queue({ maxLen: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push(await q.enqueue({ n: String(i) }));
    await q.readNew();
    for (let i = 2; i < 6; i++) ids.push(await q.enqueue({ n: String(i) }));
    await q.trim();
    // 0 and 1 (pending) and 2 (unread) are gone; 3..5 remain unread.
    expect(await q.lag()).toMatchObject({ pending: 2, unread: 3 });
    expect(await q.claim(0, 10)).toEqual([]);
    // Claim dropped them from pending, as Redis 7's XAUTOCLAIM does.
    expect((await q.lag()).pending).toBe(0);
    expect((await q.readNew()).map((e) => e.id)).toEqual(ids.slice(3));
  });

  it('dead-letters with the shared layout, and acks the original', async () => {
    const q = queue();
    const id = await q.enqueue({ type: 'x', body: '{"a":1}' });
    await q.readNew();
    await sleep(5);
    const [entry] = await q.claim(0, 1);
    if (!entry) throw new Error('nothing claimed');
    await q.deadLetter(entry, 'bad json');
    const [dead] = q.deadLetters();
    expect(dead?.id).toMatch(/^\d+-\d+$/);
    expect(dead?.id).not.toBe(id);
    expect(dead?.fields).toEqual({
      entry: id,
      reason: 'bad json',
      deliveries: '2',
      fields: JSON.stringify({ type: 'x', body: '{"a":1}' }),
      fields_bytes: String(JSON.stringify({ type: 'x', body: '{"a":1}' }).length),
    });
    expect(JSON.parse(dead?.fields.fields ?? '')).toEqual({ type: 'x', body: '{"a":1}' });
    expect((await q.lag()).pending).toBe(0);
    expect(await q.claim(0, 10)).toEqual([]);
  });

  it('keeps at most deadMaxLen dead letters, the newest', async () => {
    const q = queue({ deadMaxLen: 3 });
    for (let i = 0; i < 5; i++) await q.enqueue({ n: String(i) });
    for (const entry of await q.readNew()) await q.deadLetter(entry, `r${entry.fields.n}`);
    expect(q.deadLetters().map((d) => d.fields.reason)).toEqual(['r2', 'r3', 'r4']);
    expect((await q.lag()).pending).toBe(0);
  });

  it('reports lag: pending, unread and the age of the oldest pending entry', async () => {
    const q = queue({ count: 2 });
    expect(await q.lag()).toEqual({ pending: 0, unread: 0, oldestPendingMs: 0 });
    const oldest = await q.enqueue({ n: '0' });
    await sleep(40);
    await q.enqueue({ n: '1' });
    await q.enqueue({ n: '2' });
    expect(await q.lag()).toEqual({ pending: 0, unread: 3, oldestPendingMs: 0 });
    await q.readNew();
    await sleep(20);
    const lag = await q.lag();
    expect(lag).toMatchObject({ pending: 2, unread: 1 });
    expect(lag.oldestPendingMs).toBeGreaterThanOrEqual(55);
    expect(lag.oldestPendingMs).toBeLessThan(1_000);
    // Acked, the oldest no longer counts: the next pending one is ~40 ms younger.
    await q.ack([oldest]);
    expect((await q.lag()).oldestPendingMs).toBeLessThan(lag.oldestPendingMs - 20);
  });

  it('is always ready, and open and trim resolve', async () => {
    const q = queue();
    await expect(q.open()).resolves.toBeUndefined();
    await expect(q.trim()).resolves.toBeUndefined();
    const store: QueueStore = q;
    expect(store.readiness?.() ?? { ready: true }).toEqual({ ready: true });
  });

  it('close ends a waiting read with [], and every later read at once', async () => {
    const q = queue({ blockMs: 5_000 });
    const read = q.readNew();
    await sleep(10);
    const started = Date.now();
    await q.close();
    expect(await read).toEqual([]);
    // Enqueue after close still appends, but reads stay [].
    await q.enqueue({ a: '1' });
    expect(await q.readNew()).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
