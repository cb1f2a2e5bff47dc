// The emojitracker Streaming API end to end: a real redis-server, the server on a
// real socket, raw HTTP readers and a real EventSource client.
import { connect } from 'node:net';
import { EventSource } from 'eventsource';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { getJson, openSse, waitUntil } from '../support/sse.js';
import type { RawSse } from '../support/sse.js';
import type { StatusDocument } from '../support/status.js';

let redis: TestRedis;
let pub: Redis;
let app: TestApp;
const open: RawSse[] = [];

async function sse(path: string, headers?: Record<string, string>): Promise<RawSse> {
  const s = await openSse(`${app.url}${path}`, headers ? { headers } : {});
  open.push(s);
  return s;
}

async function numsub(channel: string): Promise<number> {
  const reply = (await pub.pubsub('NUMSUB', channel)) as [string, number];
  return Number(reply[1]);
}
const numpat = async () => Number(await pub.pubsub('NUMPAT'));

const waitScoresSubscribed = () =>
  waitUntil(async () => (await numsub('stream.score_updates')) > 0, 5_000, 'SUBSCRIBE');
const waitTweetsSubscribed = () => waitUntil(async () => (await numpat()) > 0, 5_000, 'PSUBSCRIBE');

const tweet = (id: string, n: number) =>
  JSON.stringify({
    id: String(n),
    text: `tweet ${n} for ${id}`,
    screen_name: 'a',
    name: 'A',
    links: [],
    profile_image_url: 'http://x/y.png',
    created_at: 'now',
  });

beforeAll(async () => {
  redis = await startRedis();
  pub = redis.client();
  app = await startApp({ redisUrl: redis.url });
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

afterAll(async () => {
  await app.close();
  await redis.stop();
});

describe('wire format', () => {
  it.each(['/subscribe/raw', '/subscribe/eps', '/subscribe/details/1F602'])(
    'GET %s sends the SSE headers and a first byte at once',
    async (path) => {
      const s = await sse(path);
      expect(s.status).toBe(200);
      expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(s.headers['cache-control']).toBe('no-cache');
      expect(s.headers['connection']).toBe('keep-alive');
      expect(s.headers['access-control-allow-origin']).toBe('*');
      expect(s.headers['x-accel-buffering']).toBe('no');
      expect(s.headers['content-encoding']).toBeUndefined();
      await s.waitFor((_e, text) => text === ':ok\n\n');
    },
  );

  it.each(['/subscribe/raw', '/subscribe/eps', '/subscribe/details/2665'])(
    'HEAD %s answers the same headers and ends at once',
    async (path) => {
      const s = await openSse(`${app.url}${path}`, { method: 'HEAD' });
      expect(s.status).toBe(200);
      expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(s.headers['x-accel-buffering']).toBe('no');
      await s.ended();
      expect(s.text()).toBe('');
      await waitUntil(
        () => app.streamer.hub.clientCount() === 0,
        2_000,
        'no connection kept for HEAD',
      );
    },
  );

  it('raw sends data:<ID> for every score update, exactly as published', async () => {
    const s = await sse('/subscribe/raw');
    await waitScoresSubscribed();
    for (const id of ['1F602', '2665', '0031-20E3']) await pub.publish('stream.score_updates', id);
    await s.waitFor((events) => events.length === 3);
    expect(s.text()).toBe(':ok\n\ndata:1F602\n\ndata:2665\n\ndata:0031-20E3\n\n');
  });

  it.each([
    ['1.1', 'chunked', '5\r\n:ok\n\n\r\n', 'c\r\ndata:1F602\n\n\r\n'],
    ['1.0', 'close-delimited', ':ok\n\n', 'data:1F602\n\n'],
  ])('an HTTP/%s client gets the exact bytes (%s body)', async (version, _kind, first, message) => {
    const socket = connect(app.port, '127.0.0.1');
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString('utf8')));
    socket.write(`GET /subscribe/raw HTTP/${version}\r\nHost: x\r\n\r\n`);
    try {
      await waitUntil(() => received.includes('\r\n\r\n'), 5_000, 'headers');
      await waitScoresSubscribed();
      await pub.publish('stream.score_updates', '1F602');
      const body = () => received.slice(received.indexOf('\r\n\r\n') + 4);
      await waitUntil(() => body().length >= first.length + message.length, 5_000, 'the message');
      expect(body()).toBe(first + message);
      expect(/transfer-encoding: chunked/i.test(received)).toBe(version === '1.1');
    } finally {
      socket.destroy();
    }
  });

  it('details sends event and data lines, payload byte for byte', async () => {
    const s = await sse('/subscribe/details/1F1FA-1F1F8');
    await waitTweetsSubscribed();
    const payload = tweet('1F1FA-1F1F8', 1).replace('tweet', 'tweet 🇺🇸 "quoted" \\u2665');
    await pub.publish('stream.tweet_updates.1F1FA-1F1F8', payload);
    await s.waitFor((events) => events.length === 1);
    expect(s.text()).toBe(`:ok\n\nevent:stream.tweet_updates.1F1FA-1F1F8\ndata:${payload}\n\n`);
  });

  it('a real EventSource client receives eps rollups with sorted keys', async () => {
    const es = new EventSource(`${app.url}/subscribe/eps`);
    const received: string[] = [];
    es.onmessage = (e) => received.push(String(e.data));
    try {
      await waitUntil(() => es.readyState === EventSource.OPEN, 5_000, 'EventSource open');
      await waitScoresSubscribed();
      await pub
        .multi()
        .publish('stream.score_updates', '2665')
        .publish('stream.score_updates', '1F602')
        .publish('stream.score_updates', '2665')
        .exec();
      await waitUntil(() => received.length > 0, 5_000, 'an eps message');
      expect(received[0]).toBe('{"1F602":1,"2665":2}');
    } finally {
      es.close();
    }
  });
});

describe('routing', () => {
  it('details are isolated by exact id', async () => {
    const heart = await sse('/subscribe/details/2665');
    const prefix = await sse('/subscribe/details/26');
    const joy = await sse('/subscribe/details/1F602');
    await waitTweetsSubscribed();
    await pub.publish('stream.tweet_updates.1F602', tweet('1F602', 1));
    await pub.publish('stream.tweet_updates.2665', tweet('2665', 2));
    await pub.publish('stream.tweet_updates.26', tweet('26', 3));
    await pub.publish('stream.tweet_updates.2665', tweet('2665', 4));
    await heart.waitFor((e) => e.length === 2);
    await joy.waitFor((e) => e.length === 1);
    await prefix.waitFor((e) => e.length === 1);
    expect(heart.events().map((e) => e.event)).toEqual([
      'stream.tweet_updates.2665',
      'stream.tweet_updates.2665',
    ]);
    expect(heart.events().map((e) => (JSON.parse(e.data) as { id: string }).id)).toEqual([
      '2',
      '4',
    ]);
    expect(joy.events().map((e) => (JSON.parse(e.data) as { id: string }).id)).toEqual(['1']);
    expect(prefix.events().map((e) => (JSON.parse(e.data) as { id: string }).id)).toEqual(['3']);
  });

  it('the eps total equals the score updates published', async () => {
    const s = await sse('/subscribe/eps');
    await waitScoresSubscribed();
    const ids = ['1F602', '2764', '2665', '1F60D', '0031-20E3'];
    const total = 600;
    for (let i = 0; i < total; i += 50) {
      const batch = pub.pipeline();
      for (let j = i; j < i + 50; j++)
        batch.publish('stream.score_updates', ids[(j * j) % ids.length] as string);
      await batch.exec();
      await new Promise((r) => setTimeout(r, 5));
    }
    const sum = () =>
      s
        .events()
        .reduce(
          (acc, e) =>
            acc +
            Object.values(JSON.parse(e.data) as Record<string, number>).reduce((a, b) => a + b, 0),
          0,
        );
    await waitUntil(() => sum() === total, 5_000, `eps total ${total}`);
    for (const e of s.events()) {
      const keys = Object.keys(JSON.parse(e.data) as object);
      const raw = [...e.data.matchAll(/"([^"]+)":/g)].map((m) => m[1]);
      expect(raw).toEqual([...raw].sort());
      expect(keys.length).toBeGreaterThan(0);
    }
    expect(s.events().length).toBeGreaterThan(1);
  });
});

describe('bad input', () => {
  it.each(['zz', '1f602', '1F602;DROP', 'A'.repeat(65), '1F602--2665', '-1F602'])(
    'a bad id %s is a 400 with a JSON error',
    async (id) => {
      const res = await getJson<{ statusCode: number; code: string; message: string }>(
        `${app.url}/subscribe/details/${encodeURIComponent(id)}`,
      );
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body.code).toBe('RXS_ERR_BAD_ID');
      expect(res.body.message).toContain('not an emoji id');
    },
  );

  it('an unknown path is a 404 with a JSON error', async () => {
    const res = await getJson<{ code: string }>(`${app.url}/subscribe/nothing`);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('RXS_ERR_NOT_FOUND');
  });

  it('bad requests leave other clients streaming', async () => {
    const s = await sse('/subscribe/raw');
    await waitScoresSubscribed();
    await getJson(`${app.url}/subscribe/details/nope`);
    await getJson(`${app.url}/nope`);
    await pub.publish('stream.score_updates', '1F602');
    await s.waitFor((e) => e.length === 1);
  });
});

describe('status and lifecycle', () => {
  type Status = StatusDocument;

  it('status.json lists connections with path, namespace, IP and user agent', async () => {
    await sse('/subscribe/eps', { 'User-Agent': 'test-agent/1.0' });
    await sse('/subscribe/details/2665');
    const res = await getJson<Status>(`${app.url}/admin/status.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const now = Math.floor(Date.now() / 1000);
    expect(res.body).toMatchObject({ node: 'test-node', status: 'OK' });
    expect(Math.abs(res.body.reported_at - now)).toBeLessThanOrEqual(1);
    expect(res.body.startup_time).toBeLessThanOrEqual(res.body.reported_at);
    expect(typeof res.body.msgs_broadcast).toBe('number');
    const eps = res.body.connections.find((c) => c.request_path === '/subscribe/eps');
    expect(eps).toMatchObject({
      namespace: '/eps',
      client_ip: '127.0.0.*',
      user_agent: 'test-agent/1.0',
      msgs_sent: 0,
    });
    expect(Math.abs((eps?.created_at ?? 0) - now)).toBeLessThanOrEqual(1);
    // Node's http client sends no User-Agent by default: the field is still a string.
    const detail = res.body.connections.find((c) => c.request_path === '/subscribe/details/2665');
    expect(detail).toMatchObject({
      namespace: '/details/2665',
      client_ip: '127.0.0.*',
      user_agent: '',
    });
  });

  it('after clients leave, status.json and the Redis subscriptions drop', async () => {
    // The score board behind /api/scores keeps its own score subscription: measure from there.
    await waitUntil(async () => (await numpat()) === 0, 5_000, 'no pattern subscription');
    const baseline = await numsub('stream.score_updates');
    expect(baseline).toBeLessThanOrEqual(1);
    const clients = await Promise.all([
      sse('/subscribe/eps'),
      sse('/subscribe/raw'),
      sse('/subscribe/details/1F602'),
    ]);
    await waitScoresSubscribed();
    await waitTweetsSubscribed();
    expect(await numsub('stream.score_updates')).toBe(1); // every score family on one Redis subscription
    expect(await numpat()).toBe(1);
    for (const c of clients) c.close();
    await waitUntil(
      async () =>
        (await getJson<Status>(`${app.url}/admin/status.json`)).body.connections.length === 0,
      5_000,
      'empty connection list',
    );
    await waitUntil(
      async () => (await numsub('stream.score_updates')) === baseline && (await numpat()) === 0,
      5_000,
      'UNSUBSCRIBE and PUNSUBSCRIBE',
    );
  });

  it('a client that stops reading is dropped; memory stays bounded and others are unaffected', async () => {
    const small = await startApp({
      redisUrl: redis.url,
      env: { SSE_MAX_BUFFER_BYTES: '65536', SLOW_CLIENT_TIMEOUT_MS: '300' },
    });
    try {
      // A raw socket that sends its request and then never reads.
      const stalled = connect(small.port, '127.0.0.1');
      stalled.write('GET /subscribe/details/1F602 HTTP/1.1\r\nHost: x\r\n\r\n');
      stalled.pause();
      const reader = await openSse(`${small.url}/subscribe/details/1F602`);
      await waitUntil(() => small.streamer.hub.clientCount('details') === 2, 5_000, 'both clients');
      await waitTweetsSubscribed();
      const big = tweet('1F602', 0).replace('tweet 0', 'x'.repeat(32_000));
      const sent = 600; // ~19 MB: far beyond the socket buffers of both sides
      for (let i = 0; i < sent; i += 5) {
        const batch = pub.pipeline();
        for (let j = 0; j < 5; j++) batch.publish('stream.tweet_updates.1F602', big);
        await batch.exec();
        await waitUntil(() => reader.count() >= i + 5, 10_000, 'the reading client keeping up');
      }
      expect(reader.count()).toBe(sent);
      await waitUntil(
        () => small.streamer.hub.stats.slowClientsDropped === 1,
        5_000,
        'the stalled client dropped',
      );
      expect(small.streamer.hub.clientCount('details')).toBe(1);
      for (const c of small.streamer.hub.connected())
        expect(c.unsentBytes).toBeLessThanOrEqual(4 * 65536);
      stalled.destroy();
      reader.close();
    } finally {
      await small.close();
    }
  });

  it('two hundred clients at once all receive the stream', async () => {
    const clients = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        sse(i % 2 ? '/subscribe/raw' : '/subscribe/details/1F602'),
      ),
    );
    await waitScoresSubscribed();
    await waitTweetsSubscribed();
    expect(app.streamer.hub.clientCount()).toBeGreaterThanOrEqual(200);
    await pub.publish('stream.score_updates', '1F602');
    await pub.publish('stream.tweet_updates.1F602', tweet('1F602', 9));
    await Promise.all(clients.map((c) => c.waitFor((e) => e.length === 1)));
    expect(await numsub('stream.score_updates')).toBe(1);
  });
});

describe('Redis going away', () => {
  it('streams resume after a Redis restart', async () => {
    const own = await startRedis();
    const ownApp = await startApp({ redisUrl: own.url });
    try {
      const raw = await openSse(`${ownApp.url}/subscribe/raw`);
      const details = await openSse(`${ownApp.url}/subscribe/details/2665`);
      const ownPub = own.client();
      await waitUntil(
        async () =>
          Number(
            ((await ownPub.pubsub('NUMSUB', 'stream.score_updates')) as [string, number])[1],
          ) === 1 && Number(await ownPub.pubsub('NUMPAT')) === 1,
        5_000,
        'subscribed',
      );
      await ownPub.publish('stream.score_updates', '1F602');
      await raw.waitFor((e) => e.length === 1);

      await own.kill(true);
      await new Promise((r) => setTimeout(r, 300));
      await own.restart();

      const again = own.client();
      await waitUntil(
        async () =>
          Number(
            ((await again.pubsub('NUMSUB', 'stream.score_updates')) as [string, number])[1],
          ) === 1 && Number(await again.pubsub('NUMPAT')) === 1,
        10_000,
        're-subscribed',
      );
      await again.publish('stream.score_updates', '2665');
      await again.publish('stream.tweet_updates.2665', tweet('2665', 7));
      await raw.waitFor((e) => e.length === 2);
      await details.waitFor((e) => e.length === 1);
      expect(raw.events().map((e) => e.data)).toEqual(['1F602', '2665']);
      raw.close();
      details.close();
    } finally {
      await ownApp.close();
      await own.stop();
    }
  });
});
