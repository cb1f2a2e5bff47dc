// Site history (recovery on reconnect for site streams), against a real
// redis-server and in the process: entries kept under their queue ids, a
// second add of an id (by another instance) changing nothing, the range after
// a position up to a bound, and "unrecovered" — never a partial claim — when
// the history was trimmed past the position, expired, or holds too many.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySiteHistory } from '../../src/sources/MemorySiteHistory.js';
import { RedisSiteHistory } from '../../src/sources/RedisSiteHistory.js';
import {
  UNRECOVERED,
  compareEntryIds,
  isEntryId,
  siteHistoryKey,
} from '../../src/sources/SiteHistory.js';
import type { SiteHistory, SiteHistoryOptions } from '../../src/sources/SiteHistory.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';

let redis: TestRedis;
let first: Redis;
let second: Redis;

beforeAll(async () => {
  redis = await startRedis();
  first = redis.client();
  second = redis.client();
});

afterAll(async () => {
  await redis?.stop();
});

let n = 0;
const fresh = () => `site${++n}`;
const frame = (id: string) => `{"site":"s","topic":"t","data":1,"id":"${id}"}`;
const ids = (count: number, from = 1) =>
  Array.from({ length: count }, (_, i) => `${1_700_000_000_000 + from + i}-0`);

/** The clock of the in-process histories, moved by the expiry test. */
let now = Date.now();
const clock = () => now;

/** Two instances' histories on one store: two Redis connections, or one shared Map. */
function pair(kind: string, options: SiteHistoryOptions): [SiteHistory, SiteHistory] {
  if (kind === 'redis')
    return [new RedisSiteHistory(first, options), new RedisSiteHistory(second, options)];
  const one = new MemorySiteHistory(options, clock);
  return [one, one];
}

describe.each(['redis', 'memory'])('%s site history', (kind) => {
  it('keeps an entry once when two instances add it, and gives the range after a position', async () => {
    const site = fresh();
    const [a, b] = pair(kind, { size: 100, ttlS: 300 });
    const [e1, e2, e3, e4] = ids(4);
    for (const id of [e1, e2, e3] as string[]) a.add(site, id, frame(id));
    // The slower instance writes what the faster one did, and one more.
    for (const id of [e1, e2, e3, e4] as string[]) b.add(site, id, frame(id));
    // A late add below the top (a redelivery) changes nothing either.
    a.add(site, e2 as string, 'late');
    expect(await b.since(site, e1 as string, e4 as string, 10)).toEqual({
      recovered: true,
      entries: [e2, e3, e4].map((id) => ({ id, frame: frame(id as string) })),
    });
    // Up to a bound, and nothing after a position at the top.
    expect(await a.since(site, e1 as string, e3 as string, 10)).toMatchObject({
      recovered: true,
      entries: [{ id: e2 }, { id: e3 }],
    });
    expect(await a.since(site, e4 as string, e4 as string, 10)).toEqual({
      recovered: true,
      entries: [],
    });
    if (kind === 'redis') expect(await first.xlen(siteHistoryKey(site))).toBe(4);
  });

  it('is unrecovered once trimmed past the position, and whole just before', async () => {
    const site = fresh();
    const [a] = pair(kind, { size: 3, ttlS: 300 });
    const all = ids(5);
    for (const id of all) a.add(site, id, frame(id));
    // Kept: the last three. From the oldest kept on, all that follows is there.
    expect(await a.since(site, all[2] as string, all[4] as string, 10)).toMatchObject({
      recovered: true,
      entries: [{ id: all[3] }, { id: all[4] }],
    });
    expect(await a.since(site, all[1] as string, all[4] as string, 10)).toEqual({
      recovered: false,
      reason: 'the history no longer reaches back to it',
    });
  });

  it('is unrecovered when more than max followed the position, and whole at max', async () => {
    const site = fresh();
    const [a] = pair(kind, { size: 100, ttlS: 300 });
    const all = ids(4);
    for (const id of all) a.add(site, id, frame(id));
    expect(await a.since(site, all[0] as string, all[3] as string, 2)).toEqual({
      recovered: false,
      reason: 'more than 2 messages followed it (RECOVERY_MAX)',
    });
    expect(await a.since(site, all[0] as string, all[3] as string, 3)).toMatchObject({
      recovered: true,
    });
    expect(await a.since(site, all[0] as string, all[2] as string, 2)).toMatchObject({
      recovered: true,
    });
  });

  it('is unrecovered when the history expired, or was never written', async () => {
    const site = fresh();
    const [a] = pair(kind, { size: 100, ttlS: 1 });
    const all = ids(2);
    for (const id of all) a.add(site, id, frame(id));
    expect(await a.since(site, all[0] as string, all[1] as string, 10)).toMatchObject({
      recovered: true,
    });
    if (kind === 'redis') {
      expect(await first.ttl(siteHistoryKey(site))).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 1_100));
    } else now += 1_001;
    expect(await a.since(site, all[0] as string, all[1] as string, 10)).toMatchObject({
      recovered: false,
    });
    expect(await a.since(fresh(), all[0] as string, all[1] as string, 10)).toMatchObject({
      recovered: false,
    });
  });
});

describe('redis site history', () => {
  it("writes one synchronous run's entries with one script call per site", async () => {
    const [s1, s2] = [fresh(), fresh()];
    const history = new RedisSiteHistory(first, { size: 100, ttlS: 300 });
    // Loaded on this connection first, so the calls below are EVALSHA only.
    await history.since(s1, '0-1', '0-1', 1);
    const monitor = await redis.client().monitor();
    const calls: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => calls.push(args));
    await new Promise((r) => setTimeout(r, 50));
    const all = ids(5);
    for (const id of all) history.add(id < (all[3] as string) ? s1 : s2, id, frame(id));
    expect(await history.since(s2, all[3] as string, all[4] as string, 10)).toMatchObject({
      recovered: true,
      entries: [{ id: all[4] }],
    });
    await new Promise((r) => setTimeout(r, 50));
    monitor.disconnect();
    const scripts = calls.filter((c) => /^eval/i.test(c[0] ?? ''));
    // EVALSHA sha 1 key size ttl, then id and frame pairs; a read is EVALSHA sha 1 key since upTo max.
    const adds = scripts.filter((c) => c.length >= 8).map((c) => c[3]);
    expect(adds).toEqual([siteHistoryKey(s1), siteHistoryKey(s2)]);
    expect(await first.xlen(siteHistoryKey(s1))).toBe(3);
  });

  it('ignores only refused duplicates: other errors reach onError', async () => {
    const site = fresh();
    await first.set(siteHistoryKey(site), 'not a stream');
    const errors: unknown[] = [];
    const history = new RedisSiteHistory(first, {
      size: 100,
      ttlS: 300,
      onError: (e) => errors.push(e),
    });
    history.add(site, '1-0', frame('1-0'));
    await first.ping();
    await new Promise((r) => setTimeout(r, 20));
    expect(String(errors[0])).toMatch(/WRONGTYPE/);
  });
  it('refuses a recovery from before an entry it failed to write, rather than give a hole', async () => {
    const site = fresh();
    const history = new RedisSiteHistory(first, { size: 100, ttlS: 300, onError: () => undefined });
    const [e1, e2, e3] = ids(3, 500) as [string, string, string];
    history.add(site, e1, frame(e1));
    await history.since(site, e1, e1, 10);
    // The write of e2 fails (its XADD is refused to this connection's user), e3's goes in.
    const admin = redis.client();
    await admin.acl('SETUSER', 'default', '-xadd');
    try {
      history.add(site, e2, frame(e2));
      await first.ping();
    } finally {
      await admin.acl('SETUSER', 'default', '+xadd');
    }
    history.add(site, e3, frame(e3));
    expect(await history.since(site, e1, e3, 10)).toEqual({
      recovered: false,
      reason: UNRECOVERED.incomplete,
    });
    // From e2 on, nothing is missing.
    expect(await history.since(site, e2, e3, 10)).toMatchObject({ recovered: true });
    expect(await first.xlen(siteHistoryKey(site))).toBe(2);
  });
});

describe('entry ids', () => {
  it('orders them as the stream does and knows a good one', () => {
    expect(compareEntryIds('2-0', '10-0')).toBeLessThan(0);
    expect(compareEntryIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareEntryIds('10-0', '10-0')).toBe(0);
    expect(compareEntryIds('18446744073709551615-1', '18446744073709551615-0')).toBe(1);
    expect(isEntryId('1-0')).toBe(true);
    expect(isEntryId('18446744073709551616-0')).toBe(false);
    expect(isEntryId('1')).toBe(false);
  });
});
