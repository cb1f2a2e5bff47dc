// Postgres LISTEN/NOTIFY into pub/sub channels, end to end: a private Postgres
// and Redis started here, the server with DATABASE_URL, real WebSocket clients.
import type { Client } from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { startPostgres } from '../support/postgres.js';
import type { TestPostgres } from '../support/postgres.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/sse.js';
import { isControl, isMessage, openWs } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

let redis: TestRedis;
let postgres: TestPostgres;
let any: TestApp;
let listed: TestApp;
let db: Client;
const open: WsClient[] = [];

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  [any, listed] = await Promise.all([
    startApp({ redisUrl: redis.url, env: { DATABASE_URL: postgres.url, PG_CHANNELS: '*' } }),
    startApp({
      redisUrl: redis.url,
      env: { DATABASE_URL: postgres.url, PG_CHANNELS: 'orders, stock' },
    }),
  ]);
  db = await postgres.client();
}, 60_000);

afterAll(async () => {
  for (const c of open) c.close();
  await Promise.all([any?.close(), listed?.close()]);
  await Promise.all([redis?.stop(), postgres?.stop()]);
});

async function subscriber(app: TestApp, channel: string): Promise<WsClient> {
  const c = await openWs(`ws://127.0.0.1:${app.port}/pubsub`);
  open.push(c);
  c.send({ action: 'subscribe', payload: { channel } });
  await c.next(isControl(`Subscribed to ${channel}`));
  return c;
}

const notify = (channel: string, payload: string) =>
  db.query('SELECT pg_notify($1, $2)', [channel, payload]);

it('a NOTIFY reaches the subscribers of the channel of that name, in order, right after the ack', async () => {
  const c = await subscriber(any, 'orders');
  await notify('orders', '{"id":1,"status":"paid"}');
  await notify('orders', 'not JSON');
  await notify('orders', '{"id":2}');
  expect(await c.next(isMessage('orders', { id: 1, status: 'paid' }))).toBeTruthy();
  expect(await c.next(isMessage('orders', 'not JSON'))).toBeTruthy();
  expect(await c.next(isMessage('orders', { id: 2 }))).toBeTruthy();
});

it('with PG_CHANNELS, only the listed channels are listened to', async () => {
  const [stock, other] = await Promise.all([
    subscriber(listed, 'stock'),
    subscriber(listed, 'gossip'),
  ]);
  await notify('gossip', '"not forwarded"');
  await notify('stock', '{"sku":"A1","left":3}');
  await stock.next(isMessage('stock', { sku: 'A1', left: 3 }));
  // The marker arrived after the gossip NOTIFY; the gossip subscriber got nothing from Postgres.
  const marker = await subscriber(listed, 'gossip.marker');
  await redis.client().publish('pubsub:gossip', '"from redis"');
  await other.next(isMessage('gossip', 'from redis'));
  expect(other.received.filter(isMessage('gossip', 'not forwarded'))).toEqual([]);
  marker.close();
});

it('with PG_CHANNELS=*, LISTENs to at most PG_MAX_CHANNELS at once and refuses more, and skips names Postgres would cut', async () => {
  const bounded = await startApp({
    redisUrl: redis.url,
    env: { DATABASE_URL: postgres.url, PG_CHANNELS: '*', PG_MAX_CHANNELS: '2' },
  });
  try {
    const [a, b] = [await subscriber(bounded, 'cap.a'), await subscriber(bounded, 'cap.b')];
    const c = await openWs(`ws://127.0.0.1:${bounded.port}/pubsub`);
    open.push(c);
    c.send({ action: 'subscribe', payload: { channel: 'cap.c' } });
    await c.next(
      isControl(
        'this server LISTENs to at most 2 Postgres channels at once (PG_MAX_CHANNELS); try again later',
        true,
      ),
    );
    // A channel someone already has is no new LISTEN.
    const again = await subscriber(bounded, 'cap.a');
    // 64 characters: a pub/sub channel from Redis only, no LISTEN, nothing logged.
    const long = 'l'.repeat(64);
    a.close();
    again.close();
    await waitUntil(
      () => !(bounded.postgres?.listening() ?? []).includes('cap.a'),
      5_000,
      'UNLISTEN',
    );
    await subscriber(bounded, long);
    expect(bounded.postgres?.listening()).not.toContain(long);
    b.close();
  } finally {
    await bounded.close();
  }
});

it('without PG_CHANNELS, no Postgres channel reaches clients', async () => {
  const closed = await startApp({ redisUrl: redis.url, env: { DATABASE_URL: postgres.url } });
  try {
    const c = await subscriber(closed, 'orders');
    expect(closed.postgres?.listening()).toEqual([]);
    await notify('orders', '"secret"');
    await redis.client().publish('pubsub:orders', '"from redis"');
    await c.next(isMessage('orders', 'from redis'));
    expect(c.received.filter(isMessage('orders', 'secret'))).toEqual([]);
  } finally {
    await closed.close();
  }
});

it('LISTENs only while a channel has subscribers', async () => {
  const listening = () => any.postgres?.listening() ?? [];
  expect(listening()).not.toContain('transient');
  const c = await subscriber(any, 'transient');
  expect(listening()).toContain('transient');
  await notify('transient', '1');
  await c.next(isMessage('transient', 1));
  c.send({ action: 'unsubscribe', payload: { channel: 'transient' } });
  await c.next(isControl('Unsubscribed from transient'));
  await waitUntil(() => !listening().includes('transient'), 5_000, 'the UNLISTEN');
});

it('a NOTIFY reaches subscribers again after Postgres restarts', async () => {
  const c = await subscriber(any, 'restart');
  await postgres.restart();
  db = await postgres.client();
  // LISTEN again on the new connection; until then NOTIFYs have no listener.
  let n = 0;
  await waitUntil(
    async () => {
      await notify('restart', JSON.stringify({ n: ++n }));
      await new Promise((r) => setTimeout(r, 100));
      return c.received.some(isMessage('restart'));
    },
    20_000,
    'a NOTIFY after the restart',
  );
}, 40_000);
