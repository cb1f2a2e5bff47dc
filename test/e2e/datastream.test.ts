// Site streams (SPEC §3, /datastream) end to end: real `ws` clients against the
// server on a real Redis Stream, messages enqueued by XADD and by POST.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import { ADMIN_TOKEN, adminStatus } from '../support/status.js';
import type { TestApp } from '../support/app.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/sse.js';
import { isControl, openWs, rawUpgrade } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

const KEY = 'datastream:incoming';
const API_KEY = 'test-key-0123456789abcdef';

let redis: TestRedis;
let cli: Redis;
let apps: TestApp[];
const open: WsClient[] = [];

const env = (name: string) => ({
  NODE_NAME: name,
  DATASTREAM_RESUME_DELAY_MS: '0',
  DATASTREAM_BLOCK_MS: '200',
  DATASTREAM_CLAIM_IDLE_MS: '300',
  DATASTREAM_CLAIM_EVERY_MS: '100',
  DATASTREAM_MAX_BYTES: '2048',
  DATASTREAM_API_KEY: API_KEY,
  ADMIN_TOKEN,
});

async function siteClient(query: string, app = apps[0] as TestApp): Promise<WsClient> {
  const c = await openWs(`ws://127.0.0.1:${app.port}/datastream?${query}`);
  open.push(c);
  const site = new URLSearchParams(query).get('site');
  await c.next(isControl(`Subscribed to site ${site}`), 5_000, `the subscription to ${site}`);
  return c;
}

const isSiteMessage =
  (site: string, topic?: string) =>
  (frame: unknown): boolean => {
    const f = frame as { site?: unknown; topic?: unknown };
    return f?.site === site && (topic === undefined || f.topic === topic);
  };

const xadd = async (site: string, topic: string, data: unknown) =>
  (await cli.xadd(KEY, '*', 'site', site, 'topic', topic, 'data', JSON.stringify(data))) as string;

function post(body: unknown, headers: Record<string, string> = {}, app = apps[0] as TestApp) {
  return fetch(`${app.url}/datastream/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${API_KEY}`,
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The group of an app: every instance has its own. */
const groupOf = (name: string) => `rx-streamer:${name}`;

beforeAll(async () => {
  redis = await startRedis();
  cli = redis.client();
  apps = await Promise.all([
    startApp({ redisUrl: redis.url, env: env('ds-a') }),
    startApp({ redisUrl: redis.url, env: env('ds-b') }),
  ]);
  // Each instance has made its group before the tests enqueue.
  await waitUntil(async () => {
    const groups = (await cli.xinfo('GROUPS', KEY).catch(() => [])) as unknown[];
    return groups.length === 2;
  }, 5_000);
});

afterAll(async () => {
  for (const c of open) c.close();
  await Promise.all(apps.map((a) => a.close()));
  await redis.stop();
});

describe('delivery', () => {
  it('delivers an XADD and a POST to the clients of their site, and to no other site', async () => {
    const [tst, other] = await Promise.all([siteClient('site=tst'), siteClient('site=mrc')]);
    const added = await xadd('tst', 'weather', { temp: 12.5 });
    // The entry's id goes with it: where the client resumes from (?lastEventId=).
    expect(await tst.next(isSiteMessage('tst'))).toEqual({
      site: 'tst',
      topic: 'weather',
      data: { temp: 12.5 },
      id: added,
    });
    const res = await post({ site: 'tst', topic: 'status', data: { dome: 'open' } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect(id).toMatch(/^\d+-\d+$/);
    expect(await tst.next(isSiteMessage('tst'))).toEqual({
      site: 'tst',
      topic: 'status',
      data: { dome: 'open' },
      id,
    });
    // A marker for the other site proves it got nothing of tst's in between.
    await xadd('mrc', 'marker', 1);
    await other.next(isSiteMessage('mrc', 'marker'));
    expect(other.received.filter(isSiteMessage('tst'))).toEqual([]);
  });

  it('switches a client to another site', async () => {
    const c = await siteClient('site=sw1');
    c.send({ action: 'updatesubscribersite', site: 'sw2' });
    await c.next(isControl('Subscribed to site sw2'));
    await xadd('sw1', 'x', 'old');
    await xadd('sw2', 'x', 'new');
    expect(await c.next(isSiteMessage('sw2'))).toMatchObject({ data: 'new' });
    expect(c.received.filter(isSiteMessage('sw1'))).toEqual([]);
  });

  it('narrows a client to some topics, by query and by action', async () => {
    const c = await siteClient('site=top&topics=weather,status');
    await xadd('top', 'calendar', 1);
    await xadd('top', 'status', 2);
    expect(await c.next(isSiteMessage('top'))).toMatchObject({ topic: 'status', data: 2 });
    c.send({ action: 'updatesubscribersite', site: 'top', topics: ['calendar'] });
    await c.next(isControl('Subscribed to site top'));
    await xadd('top', 'status', 3);
    await xadd('top', 'calendar', 4);
    expect(await c.next(isSiteMessage('top'))).toMatchObject({ topic: 'calendar', data: 4 });
    // Back to every topic.
    c.send({ action: 'updatesubscribersite', site: 'top', topics: null });
    await c.next(isControl('Subscribed to site top'));
    await xadd('top', 'anything', 5);
    expect(await c.next(isSiteMessage('top'))).toMatchObject({ topic: 'anything', data: 5 });
  });

  it('drains a thousand queued messages in order per site', async () => {
    const [a, b] = await Promise.all([siteClient('site=bulk1'), siteClient('site=bulk2')]);
    const pipeline = cli.pipeline();
    for (let i = 0; i < 1000; i++)
      pipeline.xadd(KEY, '*', 'site', i % 2 ? 'bulk2' : 'bulk1', 'topic', 'n', 'data', String(i));
    await pipeline.exec();
    await waitUntil(() => a.received.filter(isSiteMessage('bulk1')).length === 500, 10_000);
    await waitUntil(() => b.received.filter(isSiteMessage('bulk2')).length === 500, 10_000);
    const numbers = (c: WsClient, site: string) =>
      c.received.filter(isSiteMessage(site)).map((f) => (f as { data: number }).data);
    expect(numbers(a, 'bulk1')).toEqual(Array.from({ length: 500 }, (_, i) => 2 * i));
    expect(numbers(b, 'bulk2')).toEqual(Array.from({ length: 500 }, (_, i) => 2 * i + 1));
  });

  it('delivers every message on every instance to its own clients, and acknowledges it in each group', async () => {
    const [onA, onB] = await Promise.all([
      siteClient('site=both', apps[0]),
      siteClient('site=both', apps[1]),
    ]);
    for (let i = 0; i < 20; i++) await xadd('both', 'n', i);
    await waitUntil(() => onA.received.filter(isSiteMessage('both')).length === 20, 5_000);
    await waitUntil(() => onB.received.filter(isSiteMessage('both')).length === 20, 5_000);
    for (const name of ['ds-a', 'ds-b']) {
      await waitUntil(async () => {
        const [count] = (await cli.xpending(KEY, groupOf(name))) as [number];
        return count === 0;
      }, 5_000);
    }
  });
});

describe('bad input', () => {
  it('sends a malformed entry to the dead letters with its reason, and goes on', async () => {
    const c = await siteClient('site=dlq');
    const bad = (await cli.xadd(
      KEY,
      '*',
      'site',
      'dlq',
      'topic',
      'x',
      'data',
      '{not json',
    )) as string;
    const noSite = (await cli.xadd(KEY, '*', 'topic', 'x', 'data', '1')) as string;
    await xadd('dlq', 'x', 'after');
    expect(await c.next(isSiteMessage('dlq'))).toMatchObject({ data: 'after' });
    await waitUntil(async () => (await cli.xlen(`${KEY}:dead`)) >= 4, 5_000);
    const dead = (await cli.xrange(`${KEY}:dead`, '-', '+')).map(([, flat]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
      return f;
    });
    // Each instance's group moves it, so it is there once per instance.
    const of = (id: string) => dead.filter((d) => d.entry === id);
    expect(of(bad)).toHaveLength(2);
    expect(of(bad)[0]).toMatchObject({ reason: 'data must be JSON text', deliveries: '1' });
    expect(JSON.parse(of(bad)[0]?.fields as string)).toEqual({
      site: 'dlq',
      topic: 'x',
      data: '{not json',
    });
    expect(of(noSite)[0]).toMatchObject({ reason: 'site must be a non-empty string' });
    // The last entry is acknowledged once it is on the client's socket: nothing stays pending.
    await waitUntil(
      async () => ((await cli.xpending(KEY, groupOf('ds-a'))) as [number])[0] === 0,
      5_000,
      'no entry pending',
    );
  });

  it('sends an entry to the dead letters after it failed five deliveries', async () => {
    // A consumer of ds-a's group that keeps failing: read, then claimed four more times.
    await cli.xgroup('CREATECONSUMER', KEY, groupOf('ds-a'), 'failing');
    const c = await siteClient('site=poison');
    const id = await xadd('poison', 'x', 1);
    // Delivered and acknowledged once; then put back as though five tries had failed.
    await c.next(isSiteMessage('poison'));
    await waitUntil(async () => ((await cli.xpending(KEY, groupOf('ds-a'))) as [number])[0] === 0);
    await cli.call('XCLAIM', KEY, groupOf('ds-a'), 'failing', '0', id, 'RETRYCOUNT', '5', 'FORCE');
    await waitUntil(async () => {
      const dead = await cli.xrange(`${KEY}:dead`, '-', '+');
      return dead.some(([, flat]) => flat.includes(id) && flat.includes('failed 5 deliveries'));
    }, 5_000);
  });

  it('refuses a handshake without a valid site, or with a bad lastEventId, with 400 and a JSON body', async () => {
    for (const query of [
      '',
      'site=',
      'site=bad%20site',
      'site=ok&topics=a,b%20c',
      'site=ok&lastEventId=12',
      'site=ok&lastEventId=1-2-3',
    ]) {
      const answer = await rawUpgrade((apps[0] as TestApp).port, `/datastream?${query}`);
      expect(answer, query).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
        statusCode: 400,
        code: 'RXS_ERR_BAD_REQUEST',
      });
    }
  });

  it('answers a bad action with a control error and keeps the client', async () => {
    const c = await siteClient('site=ctl');
    c.sendRaw('not json');
    await c.next(isControl('a frame must be JSON', true));
    c.send({ action: 'subscribe' });
    await c.next(isControl(/unknown action "subscribe"/, true));
    c.send({ action: 'updatesubscribersite', site: '../etc' });
    await c.next(isControl(/site must be 1 to 64 letters/, true));
    await xadd('ctl', 'x', 'still here');
    expect(await c.next(isSiteMessage('ctl'))).toMatchObject({ data: 'still here' });
  });

  it('answers bad POSTs with 400 naming the field, 401 without the key, 413 and 415', async () => {
    const cases: [body: unknown, status: number, message: RegExp][] = [
      [{ topic: 'x', data: 1 }, 400, /^site must be/],
      [{ site: 'a b', topic: 'x', data: 1 }, 400, /^site must be 1 to 64/],
      [{ site: 'a', data: 1 }, 400, /^topic must be/],
      [{ site: 'a', topic: 'x' }, 400, /^data is missing/],
      [[1, 2], 400, /the body must be a JSON object/],
      ['{"site":', 400, /not valid JSON/],
      [{ site: 'a', topic: 'x', data: 'x'.repeat(4096) }, 413, /at most 2048 bytes/],
    ];
    for (const [body, status, message] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(((await res.json()) as { message: string }).message).toMatch(message);
    }
    const noKey = await post({ site: 'a', topic: 'x', data: 1 }, { authorization: '' });
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrongKey = await post({ site: 'a', topic: 'x', data: 1 }, { authorization: 'Bearer no' });
    expect(wrongKey.status).toBe(401);
    const text = await post('site=a', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
  });
});

describe('operations', () => {
  it('shows the queue and the clients in the status document and the metrics', async () => {
    await siteClient('site=ops');
    const doc = await adminStatus<{
      datastream_clients: number;
      datastream_queue: { key: string; pending: number; acked: number };
      connections: { site?: string }[];
    }>(apps[0]?.url ?? '');
    expect(doc.datastream_clients).toBeGreaterThan(0);
    expect(doc.datastream_queue.key).toBe(KEY);
    expect(doc.datastream_queue.acked).toBeGreaterThan(0);
    expect(doc.connections.some((c) => c.site === 'ops')).toBe(true);
    // Anyone else sees the client, not its site.
    const masked = await (await fetch(`${apps[0]?.url}/admin/status.json`)).text();
    expect(masked).not.toContain('"site":"ops"');
    const metrics = await (await fetch(`${apps[0]?.url}/metrics`)).text();
    for (const name of ['pending', 'acked', 'dead_letters', 'redelivered', 'oldest_pending_ms'])
      expect(metrics).toMatch(new RegExp(`datastream_${name}`));
  });
});
