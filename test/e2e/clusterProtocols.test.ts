// Every protocol but pub/sub (test/e2e/pubsubCluster.test.ts) on a six-node Redis
// Cluster, two instances sharing it with notification rooms and pub/sub channels
// sharded (SSUBSCRIBE/SPUBLISH): notification streams and their recovery, site
// streams (each instance's consumer group, the per-site history, the dead
// letters in another slot), emojitrack's score feeds and /api/scores, and the
// status hash.
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../../src/sources/keySlot.js';
import { siteHistoryKey } from '../../src/sources/SiteHistory.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { afterOk, openNotify } from '../support/notify.js';
import type { NotifyReader } from '../support/notify.js';
import { publishApi } from '../support/publish.js';
import { startRedisCluster } from '../support/redisCluster.js';
import type { TestRedisCluster } from '../support/redisCluster.js';
import { openSse, waitUntil } from '../support/sse.js';
import type { RawSse } from '../support/sse.js';
import { isControl, openWs } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

const PUBLISH_KEY = 'publish-key-0123456789';
const QUEUE = 'datastream:incoming';

let cluster: TestRedisCluster;
let cmd: Cluster;
let a: TestApp;
let b: TestApp;
const sockets: WsClient[] = [];
const streams: { close(): void }[] = [];

const env = (name: string) => ({
  NODE_NAME: name,
  REDIS_SHARDED_CHANNELS: 'room:*,pubsub:*',
  PUBLISH_API_KEY: PUBLISH_KEY,
  RECOVERY_MAX: '20',
  NOOP_MS: '60000',
  DATASTREAM_RESUME_DELAY_MS: '0',
  DATASTREAM_BLOCK_MS: '200',
  STATUS_HASH: 'true',
  STATUS_REPORT_MS: '100',
});

beforeAll(async () => {
  cluster = await startRedisCluster();
  cmd = cluster.client();
  [a, b] = await Promise.all([
    startApp({ redisCluster: cluster.seeds, env: env('cl-a') }),
    startApp({ redisCluster: cluster.seeds, env: env('cl-b') }),
  ]);
  // Each instance has made its consumer group before the tests enqueue.
  await waitUntil(
    async () => ((await cmd.xinfo('GROUPS', QUEUE).catch(() => [])) as unknown[]).length === 2,
    10_000,
    "each instance's group",
  );
}, 60_000);

afterAll(async () => {
  for (const s of [...sockets, ...streams]) s.close();
  await Promise.all([a, b].map((app) => app?.close()));
  await cluster?.stop();
});

describe('notification streams', () => {
  const openStream = async (app: TestApp, user: string, lastEventId?: string) => {
    const s = await openNotify(`${app.url}/?user=${user}`, {
      headers: lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId },
    });
    streams.push(s);
    await s.waitStatus('ok', 10_000);
    return s;
  };
  const lastId = (s: NotifyReader) => s.events().findLast((e) => e.id)?.id as string;

  it('delivers a publish with history, a bare PUBLISH and an SPUBLISH; recovers 3 on the other instance', async () => {
    await cmd.sadd('user:c1:channels', 'user:c1', 'room:c1');
    const first = await openStream(a, 'c1');
    await publishApi(a.url, PUBLISH_KEY, 'room:c1', 'with-history');
    await first.waitMessage('with-history', 10_000);
    // A bare outside PUBLISH on a classic channel, and an SPUBLISH on a sharded one.
    await cmd.publish('user:c1', 'bare');
    await first.waitMessage('bare', 10_000);
    await cmd.spublish('room:c1', 'sharded-bare');
    await first.waitMessage('sharded-bare', 10_000);
    const id = lastId(first);
    expect(id).toBeTruthy();
    first.close();
    await first.ended().catch(() => undefined);

    await publishApi(a.url, PUBLISH_KEY, 'room:c1', 'm1');
    await publishApi(b.url, PUBLISH_KEY, 'room:c1', 'm2');
    await publishApi(a.url, PUBLISH_KEY, 'room:c1', 'm3');
    const back = await openStream(b, 'c1', id);
    await back.waitMessage('m3', 10_000);
    await publishApi(a.url, PUBLISH_KEY, 'room:c1', 'live');
    await back.waitMessage('live', 10_000);
    expect(afterOk(back)).toEqual(['m1', 'm2', 'm3', 'live']);
  });
});

describe('site streams', () => {
  interface Frame {
    readonly site?: string;
    readonly data?: unknown;
    readonly id?: string;
    readonly recovered?: boolean;
  }
  const connect = async (app: TestApp, query: string) => {
    const c = await openWs(`ws://127.0.0.1:${app.port}/datastream?${query}`);
    sockets.push(c);
    const site = new URLSearchParams(query).get('site') as string;
    await c.next(isControl(`Subscribed to site ${site}`), 10_000, `the subscription to ${site}`);
    return c;
  };
  const hasId = (id: string) => (f: unknown) => (f as Frame)?.id === id;
  const post = async (app: TestApp, site: string, data: unknown): Promise<string> => {
    const res = await fetch(`${app.url}/datastream/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ site, topic: 't', data }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  };

  it('delivers a POST to clients of both instances and recovers on the other one', async () => {
    const [onA, onB] = await Promise.all([connect(a, 'site=cs1'), connect(b, 'site=cs1')]);
    const first = await post(a, 'cs1', 0);
    for (const c of [onA, onB])
      expect(await c.next(hasId(first), 10_000)).toEqual({
        site: 'cs1',
        topic: 't',
        data: 0,
        id: first,
      });
    onA.close();
    await onA.closed();

    const missed = [await post(a, 'cs1', 1), await post(b, 'cs1', 2), await post(a, 'cs1', 3)];
    // The per-site history, hash-tagged, holds them on the cluster.
    await waitUntil(
      async () => (await cmd.xrange(siteHistoryKey('cs1'), '-', '+')).length >= 4,
      10_000,
      'the site history',
    );
    const back = await connect(b, `site=cs1&lastEventId=${first}`);
    await back.next(hasId(missed[2] as string), 10_000);
    expect(back.received[0]).toMatchObject({ recovered: true });
    expect(back.received.slice(1).map((f) => (f as Frame).id)).toEqual(missed);
  });

  it('moves a malformed entry to the dead letters (another slot: copied, then acked)', async () => {
    // Two slots, so RedisStreamQueue.deadLetter takes the copy-then-acknowledge path.
    expect(keySlot(QUEUE)).not.toBe(keySlot(`${QUEUE}:dead`));
    const c = await connect(a, 'site=cdl');
    const bad = (await cmd.xadd(QUEUE, '*', 'site', 'cdl', 'topic', 'x', 'data', '{no')) as string;
    const good = await post(b, 'cdl', 'after');
    await c.next(hasId(good), 10_000);
    const deadOf = async () =>
      (await cmd.xrange(`${QUEUE}:dead`, '-', '+')).filter(([, flat]) => flat.includes(bad));
    // Each instance's group moves it, so it is there once per instance.
    await waitUntil(async () => (await deadOf()).length === 2, 10_000, 'the dead letters');
    const [, flat] = (await deadOf())[0] as [string, string[]];
    expect(flat[flat.indexOf('reason') + 1]).toBe('data must be JSON text');
    // And acknowledged in both groups: nothing is left pending.
    await waitUntil(
      async () => {
        const groups = (await cmd.xinfo('GROUPS', QUEUE)) as unknown[][];
        return groups.every((g) => g[g.indexOf('pending') + 1] === 0);
      },
      10_000,
      'nothing pending',
    );
  });
});

describe('emojitrack', () => {
  const sse = async (app: TestApp, path: string): Promise<RawSse> => {
    const s = await openSse(`${app.url}${path}`);
    streams.push(s);
    return s;
  };

  it('gets score updates PUBLISHed through the cluster on both instances', async () => {
    const raws = await Promise.all([sse(a, '/subscribe/raw'), sse(b, '/subscribe/raw')]);
    const eps = await sse(b, '/subscribe/eps');
    // Published until each has one: the subscriptions are in place some time after the headers.
    const publishing = setInterval(() => {
      void cmd.publish('stream.score_updates', '1F602').catch(() => undefined);
    }, 50);
    try {
      for (const s of raws) await s.waitFor((events) => events.length > 0, 10_000);
      await eps.waitFor((events) => events.length > 0, 10_000);
    } finally {
      clearInterval(publishing);
    }
    for (const s of raws) expect(s.events()[0]).toEqual({ event: undefined, data: '1F602' });
    expect(JSON.parse((eps.events()[0] as { data: string }).data)).toHaveProperty('1F602');
  });

  it('answers /api/scores from the score set on the cluster', async () => {
    await cmd.zadd('emojitrack_score', 5, '2665', 9, '1F602', 1, '0031-20E3');
    const res = await fetch(`${b.url}/api/scores?limit=2`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-scores-source')).toBe('redis');
    expect(await res.json()).toEqual([
      { id: '1F602', score: 9 },
      { id: '2665', score: 5 },
    ]);
  });
});

describe('status hash', () => {
  it('writes each node’s status JSON to admin_stream_status on the cluster', async () => {
    const eps = await openSse(`${a.url}/subscribe/eps`);
    streams.push(eps);
    const statusOfNode = async (node: string) => {
      const raw = await cmd.hget('admin_stream_status', node);
      return raw
        ? (JSON.parse(raw) as { node: string; status: string; connections: unknown[] })
        : undefined;
    };
    await waitUntil(
      async () => ((await statusOfNode('cl-a'))?.connections ?? []).length > 0,
      10_000,
      "cl-a's status with its stream",
    );
    expect(await statusOfNode('cl-a')).toMatchObject({ node: 'cl-a', status: 'OK' });
    expect(await statusOfNode('cl-b')).toMatchObject({ node: 'cl-b', status: 'OK' });
  });
});
