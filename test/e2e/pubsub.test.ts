// WebSocket pub/sub (SPEC §3) end to end: real `ws` clients against the server
// on a real Redis, and on the embedded bus.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { getJson, waitUntil } from '../support/sse.js';
import { ADMIN_TOKEN, adminStatus } from '../support/status.js';
import type { StatusDocument } from '../support/status.js';
import { isControl, isMessage, openWs, rawUpgrade } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

let redis: TestRedis;
let apps: TestApp[];
const open: WsClient[] = [];

const wsUrl = (app: TestApp, path = '/pubsub') => `ws://127.0.0.1:${app.port}${path}`;

async function client(app = apps[0] as TestApp): Promise<WsClient> {
  const c = await openWs(wsUrl(app));
  open.push(c);
  return c;
}

async function subscribed(c: WsClient, channel: string): Promise<void> {
  c.send({ action: 'subscribe', payload: { channel } });
  await c.next(isControl(`Subscribed to ${channel}`), 5_000, `the ack of ${channel}`);
}

beforeAll(async () => {
  redis = await startRedis();
  apps = await Promise.all([
    startApp({
      redisUrl: redis.url,
      env: { WS_MAX_FRAME_BYTES: '4096', WS_PING_MS: '200', ADMIN_TOKEN },
    }),
    startApp({ redisUrl: redis.url }),
  ]);
});

afterAll(async () => {
  for (const c of open) c.close();
  await Promise.all(apps.map((a) => a.close()));
  await redis.stop();
});

describe('the three actions', () => {
  it('acknowledges a subscribe, delivers another client publish, and stops after unsubscribe', async () => {
    const [a, b] = await Promise.all([client(), client()]);
    await subscribed(a, 'room.1');
    b.send({ action: 'publish', payload: { channel: 'room.1', message: { text: 'hello' } } });
    // A client's publish goes out with history: the frame carries its offset.
    expect(await a.next(isMessage('room.1'))).toEqual({
      channel: 'room.1',
      message: { text: 'hello' },
      offset: expect.any(Number) as number,
    });

    a.send({ action: 'unsubscribe', payload: { channel: 'room.1' } });
    await a.next(isControl('Unsubscribed from room.1'));
    await subscribed(a, 'room.marker');
    b.send({ action: 'publish', payload: { channel: 'room.1', message: 'after' } });
    b.send({ action: 'publish', payload: { channel: 'room.marker', message: 'marker' } });
    await a.next(isMessage('room.marker', 'marker'));
    expect(a.received.filter(isMessage('room.1', 'after'))).toEqual([]);
    // The publisher, not subscribed, got nothing but its own frames' replies.
    expect(b.received.filter(isMessage('room.1'))).toEqual([]);
  });

  it('a message published right after the ack is always delivered (100 rounds)', async () => {
    const pub = redis.client();
    for (let i = 0; i < 100; i++) {
      const c = await client();
      await subscribed(c, `race.${i}`);
      await pub.publish(`pubsub:race.${i}`, JSON.stringify({ i }));
      await c.next(isMessage(`race.${i}`, { i }), 5_000, `message ${i}`);
      c.close();
    }
  });

  it('carries an outside PUBLISH: JSON as it is, other text as a JSON string', async () => {
    const c = await client();
    await subscribed(c, 'feed');
    const pub = redis.client();
    await pub.publish('pubsub:feed', '{"price":12.5,"tags":["a"]}');
    await pub.publish('pubsub:feed', 'plain text, not JSON');
    expect(await c.next(isMessage('feed', { price: 12.5, tags: ['a'] }))).toBeTruthy();
    expect(await c.next(isMessage('feed', 'plain text, not JSON'))).toBeTruthy();
  });

  it('frames messages of every length class (7-bit, 16-bit and 64-bit lengths) intact', async () => {
    const c = await client();
    await subscribed(c, 'sizes');
    const pub = redis.client();
    const texts = [1, 100, 126, 65_000, 70_000, 200_000].map((n) => 'é'.repeat(n));
    for (const t of texts) await pub.publish('pubsub:sizes', JSON.stringify(t));
    for (const t of texts) expect(await c.next(isMessage('sizes', t))).toBeTruthy();
  });

  it('delivers a publish to every subscriber of the channel', async () => {
    const subs = await Promise.all(Array.from({ length: 20 }, () => client()));
    await Promise.all(subs.map((s) => subscribed(s, 'wide')));
    const publisher = await client();
    publisher.send({ action: 'publish', payload: { channel: 'wide', message: [1, 2, 3] } });
    for (const s of subs) expect(await s.next(isMessage('wide', [1, 2, 3]))).toBeTruthy();
  });
});

describe('bad frames', () => {
  const cases: [string, string | Buffer, RegExp][] = [
    ['not JSON', 'hello {', /must be JSON/],
    ['not an object', '[1,2]', /must be a JSON object/],
    ['without an action', '{"payload":{"channel":"x"}}', /needs an "action"/],
    ['of an unknown action', '{"action":"dance","payload":{}}', /unknown action "dance"/],
    ['without a payload', '{"action":"subscribe"}', /needs a payload object/],
    ['without a channel', '{"action":"subscribe","payload":{}}', /non-empty string/],
    [
      'with a bad channel name',
      '{"action":"subscribe","payload":{"channel":"a b"}}',
      /letters, digits/,
    ],
    [
      'with a too long channel name',
      JSON.stringify({ action: 'subscribe', payload: { channel: 'x'.repeat(201) } }),
      /at most 200 characters/,
    ],
    [
      'a publish without a message',
      '{"action":"publish","payload":{"channel":"x"}}',
      /needs payload.message/,
    ],
    ['binary', Buffer.from([1, 2, 3]), /must be text/],
  ];
  it.each(cases)(
    'a frame %s gets a control error and the connection stays open',
    async (_, frame, error) => {
      const c = await client();
      c.sendRaw(frame);
      await c.next(isControl(error, true), 5_000, `the error for ${String(error)}`);
      await subscribed(c, 'still.open');
    },
  );

  it('a frame over WS_MAX_FRAME_BYTES closes that client with 1009, and no other', async () => {
    const [big, other] = await Promise.all([client(), client()]);
    await subscribed(other, 'calm');
    big.sendRaw(
      JSON.stringify({
        action: 'publish',
        payload: { channel: 'calm', message: 'x'.repeat(5000) },
      }),
    );
    expect(await big.closed()).toBe(1009);
    const publisher = await client();
    publisher.send({ action: 'publish', payload: { channel: 'calm', message: 'fine' } });
    await other.next(isMessage('calm', 'fine'));
    expect(other.received.filter(isMessage('calm')).length).toBe(1);
  });
});

describe('the endpoint', () => {
  it('refuses a handshake at an unknown path with 404 and a JSON body', async () => {
    const answer = await rawUpgrade((apps[0] as TestApp).port, '/nowhere');
    expect(answer).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      statusCode: 404,
      code: 'RXS_ERR_NOT_FOUND',
    });
  });

  it('drops a peer that stops answering pings', async () => {
    const app = apps[0] as TestApp;
    const count = async () =>
      (await getJson<StatusDocument>(`${app.url}/admin/status.json`)).body.connections.filter(
        (x) => x.user_agent === 'dead-peer',
      ).length;
    // A raw socket that completes the handshake and then never reads a frame again.
    const socket = connect(app.port, '127.0.0.1');
    socket.write(
      'GET /pubsub HTTP/1.1\r\nHost: x\r\nUser-Agent: dead-peer\r\nUpgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await waitUntil(async () => (await count()) === 1, 5_000, 'the connection');
    // Pings every 200 ms: gone after the second unanswered one.
    await waitUntil(async () => (await count()) === 0, 5_000, 'the dead peer dropped');
    socket.destroy();
  });

  it('lists WebSocket clients in /admin/status.json with their channels, by count to anyone else', async () => {
    const c = await client();
    await subscribed(c, 'listed.a');
    await subscribed(c, 'listed.b');
    const url = (apps[0] as TestApp).url;
    const body = await adminStatus(url);
    const mine = body.connections.find(
      (x) => JSON.stringify((x as { channels?: unknown }).channels) === '["listed.a","listed.b"]',
    );
    expect(mine).toMatchObject({
      request_path: '/pubsub',
      namespace: '/pubsub',
      channels_total: 2,
    });
    const masked = await getJson<StatusDocument>(`${url}/admin/status.json`);
    expect(JSON.stringify(masked.body)).not.toContain('listed.a');
    expect(masked.body.connections).toContainEqual(
      expect.objectContaining({ namespace: '/pubsub', channels_total: 2 }),
    );
  });

  it('lists at most 32 channels of one client by name, and counts them all', async () => {
    const c = await client();
    for (let i = 0; i < 40; i++) c.send({ action: 'subscribe', payload: { channel: `many.${i}` } });
    await c.next(isControl('Subscribed to many.39'));
    const body = await adminStatus((apps[0] as TestApp).url);
    const mine = body.connections.find(
      (x) => (x as { channels_total?: number }).channels_total === 40,
    ) as { channels: string[] } | undefined;
    expect(mine?.channels).toHaveLength(32);
  });
});

it('a publish on one instance reaches the subscribers of both, once each', async () => {
  const [a, b] = [await client(apps[0]), await client(apps[1])];
  await Promise.all([subscribed(a, 'cluster'), subscribed(b, 'cluster')]);
  const publisher = await client(apps[1]);
  for (let i = 0; i < 10; i++)
    publisher.send({ action: 'publish', payload: { channel: 'cluster', message: i } });
  for (const c of [a, b]) await c.next(isMessage('cluster', 9));
  await subscribed(a, 'settle');
  for (const c of [a, b])
    expect(
      c.received.filter(isMessage('cluster')).map((f) => (f as { message: number }).message),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

it('works on the embedded bus', async () => {
  const app = await startApp({ source: new MemoryBus() });
  try {
    const [a, b] = [await client(app), await client(app)];
    await subscribed(a, 'local');
    b.send({ action: 'publish', payload: { channel: 'local', message: { ok: true } } });
    expect(await a.next(isMessage('local', { ok: true }))).toBeTruthy();
  } finally {
    await app.close();
  }
});
