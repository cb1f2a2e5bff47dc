// Channel history, against a real redis-server and in the process: offsets in
// order under one epoch, every publish PUBLISHed tagged with its position,
// recovery of exactly what followed a position, and "unrecovered" — never a
// partial claim — for another epoch, a history gone, too old or too long.
import { Redis } from 'ioredis';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyKeys, isWhole, tagged, untagged } from '../../src/sources/channelHistory.js';
import type { ChannelHistory, HistoryOptions } from '../../src/sources/channelHistory.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { MemoryHistory } from '../../src/sources/MemoryHistory.js';
import { RedisHistory } from '../../src/sources/RedisHistory.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';

let redis: TestRedis;
let commands: Redis;
let subscriber: Redis;
const bus = new MemoryBus();

beforeAll(async () => {
  redis = await startRedis();
  commands = redis.client();
  subscriber = redis.client();
});

afterAll(async () => {
  await redis?.stop();
});

const OPTIONS: HistoryOptions = { size: 5, ttlS: 300 };
let n = 0;
const fresh = () => `room:${++n}`;

type Live = { readonly position: unknown; readonly payload: string } | undefined;

/**
 * The next `count` messages PUBLISHed on a channel with their positions: from
 * the bus as sources hand them on (the tag taken off), and on a plain Redis
 * subscriber as PUBLISHed (the tag read here).
 */
async function published(
  kind: string,
  channel: string,
  count: number,
): Promise<() => Promise<Live[]>> {
  if (kind === 'memory') {
    const got = firstValueFrom(bus.channel(channel).pipe(take(count), toArray()));
    return async () => (await got).map((m) => ({ position: m.position, payload: m.payload }));
  }
  const got: string[] = [];
  const done = new Promise<string[]>((resolve) => {
    subscriber.on('message', (c: string, payload: string) => {
      if (c !== channel) return;
      got.push(payload);
      if (got.length === count) resolve(got);
    });
  });
  await subscriber.subscribe(channel);
  return async () => (await done).map(untagged);
}

const kinds: [
  string,
  (options?: HistoryOptions) => ChannelHistory,
  (channel: string) => Promise<void>,
][] = [
  [
    'redis',
    (options = OPTIONS) => new RedisHistory(commands, options),
    async (channel) => {
      await commands.del(historyKeys(channel).meta);
    },
  ],
  [
    'memory',
    (options = OPTIONS) => new MemoryHistory(bus, options),
    // Set below: the same MemoryHistory forgets.
    () => Promise.resolve(),
  ],
];

describe.each(kinds)('%s history', (kind, make, loseMeta) => {
  it('gives offsets 1, 2, 3… under one epoch, and PUBLISHes each tagged with its position', async () => {
    const history = make();
    const channel = fresh();
    const live = await published(kind, channel, 3);
    const positions = [];
    for (const p of ['"a"', '"b"', '"c"']) positions.push(await history.publish(channel, p));
    expect(positions.map((p) => p.offset)).toEqual([1, 2, 3]);
    expect(new Set(positions.map((p) => p.epoch)).size).toBe(1);
    expect(await history.top(channel)).toEqual(positions[2]);
    expect(await live()).toEqual([
      { position: positions[0], payload: '"a"' },
      { position: positions[1], payload: '"b"' },
      { position: positions[2], payload: '"c"' },
    ]);
  });

  it('recovers exactly what followed a position, and nothing from the top', async () => {
    const history = make();
    const channel = fresh();
    for (let i = 1; i <= 4; i++) await history.publish(channel, `m${i}`);
    const top = await history.top(channel);
    expect(await history.recover(channel, { epoch: top.epoch, offset: 1 }, 10)).toEqual({
      recovered: true,
      top,
      publications: [
        { offset: 2, payload: 'm2' },
        { offset: 3, payload: 'm3' },
        { offset: 4, payload: 'm4' },
      ],
    });
    expect(await history.recover(channel, top, 10)).toEqual({
      recovered: true,
      top,
      publications: [],
    });
  });

  it('is unrecovered for another epoch, a position older than the history, or more than max', async () => {
    const history = make();
    const channel = fresh();
    for (let i = 1; i <= 8; i++) await history.publish(channel, `m${i}`);
    const top = await history.top(channel);
    expect(await history.recover(channel, { epoch: 'other', offset: 7 }, 10)).toEqual({
      recovered: false,
      top,
    });
    // The history keeps 5: offsets 4…8. From 2, offset 3 is gone.
    expect(await history.recover(channel, { epoch: top.epoch, offset: 2 }, 10)).toEqual({
      recovered: false,
      top,
    });
    expect((await history.recover(channel, { epoch: top.epoch, offset: 3 }, 10)).recovered).toBe(
      true,
    );
    expect(await history.recover(channel, { epoch: top.epoch, offset: 5 }, 2)).toEqual({
      recovered: false,
      top,
    });
  });

  it('starts a new epoch when its meta is lost: the old positions are unrecovered', async () => {
    const history = make();
    const channel = fresh();
    const before = await history.publish(channel, 'old');
    if (kind === 'memory') (history as MemoryHistory).forget(channel);
    else await loseMeta(channel);
    const after = await history.publish(channel, 'new');
    expect(after.epoch).not.toBe(before.epoch);
    expect(after.offset).toBe(1);
    expect((await history.recover(channel, before, 10)).recovered).toBe(false);
    expect(await history.recover(channel, { epoch: after.epoch, offset: 0 }, 10)).toMatchObject({
      recovered: true,
      publications: [{ offset: 1, payload: 'new' }],
    });
  });

  it('gives every one of concurrent publishes its own offset, none lost', async () => {
    const many = make({ size: 1_000, ttlS: 300 });
    const channel = fresh();
    const positions = await Promise.all(
      Array.from({ length: 200 }, (_, i) => many.publish(channel, `p${i}`)),
    );
    const offsets = positions.map((p) => p.offset).sort((a, b) => a - b);
    expect(isWhole(0, 200, offsets)).toBe(true);
    const all = await many.recover(channel, { epoch: positions[0]?.epoch ?? '', offset: 0 }, 1_000);
    expect(all.recovered && all.publications.length).toBe(200);
  });
});

describe('tags', () => {
  it('read back what they wrote, and leave untagged payloads alone', () => {
    const position = { epoch: 'AbC_d-1', offset: 42 };
    expect(untagged(tagged(position, '{"a":"x:y"}'))).toEqual({
      position,
      payload: '{"a":"x:y"}',
    });
    for (const plain of ['{"a":1}', '1F602', '', ':h1:x:1:y', '\x1eh1:broken'])
      expect(untagged(plain)).toBeUndefined();
  });
});
