// Site streams resume after a drop (SPEC §5), end to end: two instances on one
// Redis, each reading the queue through its own group, real `ws` clients. A
// client that got some entries on one instance and comes back to the other
// with `lastEventId` gets exactly what it missed, in order, then live; one that
// cannot be given everything is told `recovered:false` first; and entries that
// keep coming while clients reconnect are never lost or repeated. The second
// instance reads a little late, as a busy one would: a client often comes
// back to it from further on than it has delivered.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datastreamProtocol } from '../../src/protocols/datastream/index.js';
import type { QueueEntry } from '../../src/sources/QueueStore.js';
import { RedisStreamQueue } from '../../src/sources/RedisStreamQueue.js';
import { siteHistoryKey } from '../../src/sources/SiteHistory.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/sse.js';
import { isControl, openWs } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

const KEY = 'datastream:incoming';
const HISTORY_SIZE = 500;
/** How late the second instance hands on what it reads (ms). */
const LAG_MS = 100;

/** The second instance's queue: its own group, each read handed on LAG_MS late. */
class LateQueue extends RedisStreamQueue {
  override async readNew(): Promise<QueueEntry[]> {
    const entries = await super.readNew();
    if (entries.length > 0) await new Promise((r) => setTimeout(r, LAG_MS));
    return entries;
  }
}

let redis: TestRedis;
let cli: Redis;
let a: TestApp;
let b: TestApp;
const open: WsClient[] = [];

const env = (name: string) => ({
  NODE_NAME: name,
  DATASTREAM_RESUME_DELAY_MS: '0',
  DATASTREAM_BLOCK_MS: '200',
  HISTORY_SIZE: String(HISTORY_SIZE),
});

beforeAll(async () => {
  redis = await startRedis();
  cli = redis.client();
  const late = new LateQueue(redis.client(), {
    key: KEY,
    group: 'rx-streamer:rec-b',
    consumer: 'rec-b.1',
    maxLen: 100_000,
    deadMaxLen: 100,
    blockMs: 200,
  });
  [a, b] = await Promise.all([
    startApp({ redisUrl: redis.url, env: env('rec-a') }),
    startApp({
      redisUrl: redis.url,
      env: env('rec-b'),
      protocols: [datastreamProtocol({ queue: late })],
    }),
  ]);
  await waitUntil(
    async () => ((await cli.xinfo('GROUPS', KEY).catch(() => [])) as unknown[]).length === 2,
    5_000,
    "each instance's group",
  );
});

afterAll(async () => {
  for (const c of open) c.close();
  await Promise.all([a?.close(), b?.close()]);
  await redis?.stop();
});

interface Frame {
  readonly site?: string;
  readonly topic?: string;
  readonly data?: unknown;
  readonly id?: string;
  readonly controlMessage?: boolean;
  readonly content?: string;
  readonly recovered?: boolean;
}

async function connect(app: TestApp, query: string): Promise<WsClient> {
  const c = await openWs(`ws://127.0.0.1:${app.port}/datastream?${query}`);
  open.push(c);
  const site = new URLSearchParams(query).get('site') as string;
  await c.next(isControl(`Subscribed to site ${site}`), 8_000, `the subscription to ${site}`);
  return c;
}

const hasId = (id: string) => (f: unknown) => (f as Frame)?.id === id;
const idsOf = (c: WsClient) =>
  c.received.flatMap((f) => ((f as Frame)?.id ? [(f as Frame).id as string] : []));

const xadd = async (site: string, topic: string, data: unknown) =>
  (await cli.xadd(KEY, '*', 'site', site, 'topic', topic, 'data', JSON.stringify(data))) as string;

async function post(app: TestApp, site: string, topic: string, data: unknown): Promise<string> {
  const res = await fetch(`${app.url}/datastream/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ site, topic, data }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

/** Drops a client and waits until the socket is closed: what it got is all it will get. */
async function drop(c: WsClient): Promise<void> {
  c.close();
  await c.closed();
}

/** Waits until both instances have delivered (and acknowledged) every entry up to `id`. */
async function bothDelivered(id: string): Promise<void> {
  await waitUntil(
    async () => {
      const groups = (await cli.xinfo('GROUPS', KEY)) as unknown[][];
      return groups.every((g) => {
        const f: Record<string, unknown> = {};
        for (let i = 0; i + 1 < g.length; i += 2) f[String(g[i])] = g[i + 1];
        return f.pending === 0 && f['last-delivered-id'] === id;
      });
    },
    5_000,
    `both instances past ${id}`,
  );
}

describe('a client that comes back on another instance', () => {
  it('gets exactly the five entries it missed, in order, then live ones', async () => {
    const onA = await connect(a, 'site=resume');
    const before = [await xadd('resume', 'weather', 1), await post(a, 'resume', 'status', 2)];
    await onA.next(hasId(before[1] as string));
    await drop(onA);

    const missed = [
      await xadd('resume', 'weather', 3),
      await post(a, 'resume', 'status', 4),
      await post(b, 'resume', 'weather', 5),
      await xadd('resume', 'calendar', 6),
      await xadd('resume', 'weather', 7),
    ];
    const onB = await connect(b, `site=resume&lastEventId=${before[1]}`);
    await onB.next(hasId(missed[4] as string));
    const live = await xadd('resume', 'weather', 8);
    await onB.next(hasId(live));

    expect(onB.received[0]).toEqual({
      controlMessage: true,
      content: 'Subscribed to site resume',
      recovered: true,
    });
    expect(onB.received.slice(1)).toEqual([
      { site: 'resume', topic: 'weather', data: 3, id: missed[0] },
      { site: 'resume', topic: 'status', data: 4, id: missed[1] },
      { site: 'resume', topic: 'weather', data: 5, id: missed[2] },
      { site: 'resume', topic: 'calendar', data: 6, id: missed[3] },
      { site: 'resume', topic: 'weather', data: 7, id: missed[4] },
      { site: 'resume', topic: 'weather', data: 8, id: live },
    ]);
  });

  it('gets only its topics when it narrowed them', async () => {
    const onA = await connect(a, 'site=narrow&topics=weather');
    const last = await xadd('narrow', 'weather', 0);
    await onA.next(hasId(last));
    await drop(onA);
    const missed = [
      await xadd('narrow', 'weather', 1),
      await xadd('narrow', 'status', 2),
      await xadd('narrow', 'weather', 3),
    ];
    const onB = await connect(b, `site=narrow&topics=weather&lastEventId=${last}`);
    await onB.next(hasId(missed[2] as string));
    expect(idsOf(onB)).toEqual([missed[0], missed[2]]);
  });

  it('is told recovered:false first when the history was trimmed past its entry', async () => {
    const onA = await connect(a, 'site=trimmed');
    const last = await xadd('trimmed', 'weather', 0);
    await onA.next(hasId(last));
    await drop(onA);
    const pipeline = cli.pipeline();
    for (let i = 1; i <= HISTORY_SIZE; i++)
      pipeline.xadd(KEY, '*', 'site', 'trimmed', 'topic', 'weather', 'data', String(i));
    await pipeline.exec();
    await bothDelivered(await xadd('trimmed', 'weather', 'newest'));

    const onB = await connect(b, `site=trimmed&lastEventId=${last}`);
    const live = await xadd('trimmed', 'weather', 'live');
    await onB.next(hasId(live));
    expect(onB.received).toEqual([
      {
        controlMessage: true,
        content: `the messages after ${last} cannot be recovered: the history no longer reaches back to it`,
        recovered: false,
      },
      { controlMessage: true, content: 'Subscribed to site trimmed' },
      { site: 'trimmed', topic: 'weather', data: 'live', id: live },
    ]);
  });

  it('is told recovered:false first when the history is gone', async () => {
    const onA = await connect(a, 'site=deleted');
    const last = await xadd('deleted', 'weather', 0);
    await onA.next(hasId(last));
    await drop(onA);
    const missed = await xadd('deleted', 'weather', 1);
    await bothDelivered(missed);
    expect(await cli.del(siteHistoryKey('deleted'))).toBe(1);

    const onB = await connect(b, `site=deleted&lastEventId=${last}`);
    expect(onB.received[0]).toMatchObject({ controlMessage: true, recovered: false });
    expect(onB.received[1]).toEqual({
      controlMessage: true,
      content: 'Subscribed to site deleted',
    });
    const live = await xadd('deleted', 'weather', 2);
    await onB.next(hasId(live));
    expect(idsOf(onB)).toEqual([live]);
  });
});

describe('entries enqueued while clients reconnect', () => {
  it('reach a client that keeps reconnecting, across instances, with no gap and no duplicate', async () => {
    const site = 'race';
    const enqueued: string[] = [];
    let producing = true;
    const producer = (async () => {
      for (let i = 0; producing; i++) {
        enqueued.push(await xadd(site, i % 3 ? 'weather' : 'status', i));
        await new Promise((r) => setTimeout(r, 1));
      }
    })();

    const got: string[] = [];
    let client = await connect(a, `site=${site}`);
    const deadline = Date.now() + 30_000;
    let rounds = 0;
    try {
      for (; rounds < 60 && Date.now() < deadline; rounds++) {
        // Got something new on this connection, for a little while more, then dropped.
        const seen = idsOf(client).length;
        await waitUntil(() => idsOf(client).length > seen, 5_000, 'a new entry');
        await new Promise((r) => setTimeout(r, Math.random() * 15));
        await drop(client);
        got.push(...idsOf(client));
        const last = got[got.length - 1] as string;
        // Back on either instance, with what it got last.
        client = await connect(rounds % 2 ? a : b, `site=${site}&lastEventId=${last}`);
        expect(client.received[0], `round ${rounds}`).toMatchObject({ recovered: true });
      }
    } finally {
      producing = false;
      await producer;
    }
    const final = enqueued[enqueued.length - 1] as string;
    await waitUntil(() => idsOf(client).includes(final), 5_000, 'the last entry');
    got.push(...idsOf(client));

    expect(rounds).toBeGreaterThanOrEqual(30);
    expect(new Set(got).size).toBe(got.length);
    expect(got).toEqual(enqueued.slice(enqueued.indexOf(got[0] as string)));
  }, 60_000);
});

describe('a client that comes back to a restarted instance', () => {
  it('is recovered on an idle queue: the instance resumes from where its group had read', async () => {
    const site = 'restarted';
    let c = await startApp({ redisUrl: redis.url, env: env('rec-c') });
    try {
      const client = await connect(c, `site=${site}`);
      const id = await post(c, site, 't', { n: 1 });
      await client.next(hasId(id));
      await drop(client);
      await c.close();
      // The same node name: the same group, which had read up to `id`.
      c = await startApp({ redisUrl: redis.url, env: env('rec-c') });
      const back = await connect(c, `site=${site}&lastEventId=${id}`);
      expect(back.received[0], JSON.stringify(back.received[0])).toMatchObject({ recovered: true });
      const next = await post(c, site, 't', { n: 2 });
      await back.next(hasId(next));
      expect(idsOf(back), JSON.stringify(back.received)).toEqual([next]);
    } finally {
      await c.close();
    }
  });
});
