// The score snapshot: the ScoreBoard's fold of rollups, and GET /api/scores over
// a real socket, answered from a real Redis sorted set or from the rollups.
import { Redis } from 'ioredis';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStreamer } from '../../src/app.js';
import { emojitrackProtocol } from '../../src/protocols/emojitrack/index.js';
import type { Streamer } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import type { ScoreRollup } from '../../src/operators/rollupScores.js';
import { ScoreBoard } from '../../src/protocols/emojitrack/ScoreBoard.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';

const rollup = (entries: [string, number][]): ScoreRollup => new Map(entries);

describe('ScoreBoard', () => {
  it('is empty while its rollups never come', () => {
    const board = new ScoreBoard(new Subject<ScoreRollup>());
    expect(board.ranking()).toEqual([]);
    expect(board.total).toBe(0);
    board.close();
  });

  it('adds every rollup into running totals, highest first, ties in id order', () => {
    const rollups = new Subject<ScoreRollup>();
    const board = new ScoreBoard(rollups);
    rollups.next(rollup([['2665', 1]]));
    rollups.next(
      rollup([
        ['1F602', 3],
        ['2665', 1],
        ['0031-20E3', 2],
      ]),
    );
    expect(board.ranking()).toEqual([
      { id: '1F602', score: 3 },
      { id: '0031-20E3', score: 2 },
      { id: '2665', score: 2 },
    ]);
    expect(board.ranking(1)).toEqual([{ id: '1F602', score: 3 }]);
    expect(board.total).toBe(7);
    expect(board.size).toBe(3);
    board.close();
  });

  it('keeps its totals when the rollups complete or fail', () => {
    const rollups = new Subject<ScoreRollup>();
    const board = new ScoreBoard(rollups);
    rollups.next(rollup([['1F602', 2]]));
    rollups.error(new Error('gone'));
    expect(board.ranking()).toEqual([{ id: '1F602', score: 2 }]);
  });

  it('stops counting once closed', () => {
    const rollups = new Subject<ScoreRollup>();
    const board = new ScoreBoard(rollups);
    rollups.next(rollup([['1F602', 1]]));
    board.close();
    expect(rollups.observed).toBe(false);
    expect(board.total).toBe(1);
  });
});

interface Started {
  readonly streamer: Streamer;
  readonly url: string;
}

async function start(
  bus: MemoryBus,
  extra: { scoreStore?: Redis; keepScores?: boolean } = {},
): Promise<Started> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
  const streamer = createStreamer({
    config,
    source: bus,
    protocols: [
      emojitrackProtocol({
        ...(extra.scoreStore ? { scoreStore: extra.scoreStore } : {}),
        ...(extra.keepScores ? { keepScores: true } : {}),
      }),
    ],
  });
  const { port } = await streamer.listen();
  return { streamer, url: `http://127.0.0.1:${port}` };
}

async function scores(
  url: string,
): Promise<{ status: number; source: string | null; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, source: res.headers.get('x-scores-source'), body: await res.json() };
}

async function board(url: string): Promise<unknown[]> {
  return (await scores(`${url}/api/scores`)).body as unknown[];
}

async function poll(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('GET /api/scores from the rollups', () => {
  const bus = new MemoryBus();
  let app: Started;
  beforeAll(async () => {
    app = await start(bus, { keepScores: true });
  });
  afterAll(() => app.streamer.close());

  it('is an empty array before any score update', async () => {
    const res = await scores(`${app.url}/api/scores`);
    expect(res).toEqual({ status: 200, source: 'rollups', body: [] });
  });

  it('ranks what the server has counted, highest first, and honours limit', async () => {
    for (const id of ['2665', '1F602', '1F602', '0031-20E3', '1F602', '2665'])
      bus.publish('stream.score_updates', id);
    const want = [
      { id: '1F602', score: 3 },
      { id: '2665', score: 2 },
      { id: '0031-20E3', score: 1 },
    ];
    await poll(
      async () =>
        JSON.stringify((await scores(`${app.url}/api/scores`)).body) === JSON.stringify(want),
      'the three ids counted',
    );
    expect((await scores(`${app.url}/api/scores?limit=2`)).body).toEqual(want.slice(0, 2));
  });

  it('answers a bad limit with a 400 JSON error', async () => {
    for (const bad of ['0', 'ten', '-1', '1.5', '10001', '1&limit=2', '']) {
      const res = await scores(`${app.url}/api/scores?limit=${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'RXS_ERR_BAD_REQUEST' });
    }
  });

  it('counts nothing, and holds no subscription, unless asked to keep scores', async () => {
    const quiet = new MemoryBus();
    const other = await start(quiet);
    try {
      expect(quiet.subscriptionCount()).toBe(0);
      quiet.publish('stream.score_updates', '1F602');
      expect((await scores(`${other.url}/api/scores`)).body).toEqual([]);
    } finally {
      await other.streamer.close();
    }
  });

  it('drops its subscription when the server closes', async () => {
    const own = new MemoryBus();
    const other = await start(own, { keepScores: true });
    expect(own.subscriptionCount()).toBe(1);
    await other.streamer.close();
    expect(own.subscriptionCount()).toBe(0);
  });
});

describe('GET /api/scores from the Redis sorted set', () => {
  const bus = new MemoryBus();
  let redis: TestRedis;
  let store: Redis;
  let app: Started;
  beforeAll(async () => {
    redis = await startRedis();
    // Configured as the service configures its command connection.
    store = new Redis(redis.url, { maxRetriesPerRequest: 1, commandTimeout: 2_000 });
    store.on('error', () => undefined);
    app = await start(bus, { scoreStore: store, keepScores: true });
    bus.publish('stream.score_updates', '2665');
    await poll(async () => (await board(app.url)).length === 1, 'the rollup counted');
  });
  afterAll(async () => {
    await app.streamer.close();
    store.disconnect();
    await redis.stop();
  });

  it('answers from the rollups while the key does not exist', async () => {
    const res = await scores(`${app.url}/api/scores`);
    expect(res).toEqual({ status: 200, source: 'rollups', body: [{ id: '2665', score: 1 }] });
  });

  it('answers from emojitrack_score once it exists, highest first', async () => {
    await store.zadd('emojitrack_score', 120, '1F602', 7, '2665', 45, '0031-20E3');
    const res = await scores(`${app.url}/api/scores`);
    expect(res).toEqual({
      status: 200,
      source: 'redis',
      body: [
        { id: '1F602', score: 120 },
        { id: '0031-20E3', score: 45 },
        { id: '2665', score: 7 },
      ],
    });
    expect((await scores(`${app.url}/api/scores?limit=1`)).body).toEqual([
      { id: '1F602', score: 120 },
    ]);
  });

  it('falls back to the rollups while Redis is down', async () => {
    await redis.kill(true);
    const res = await scores(`${app.url}/api/scores`);
    expect(res).toEqual({ status: 200, source: 'rollups', body: [{ id: '2665', score: 1 }] });
    await redis.restart();
  });
});
