// Pub/sub recovery when an instance dies: a plain WebSocket client on instance
// A (a real process) keeps its last position; A is killed with SIGKILL, so it
// says nothing to anyone; five messages are published through B's API; the
// client comes back to B with `recover` and gets exactly those five, in order,
// then live ones.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { publishApi } from '../support/publish.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { isControl, isMessage, openWs, subscribe } from '../support/ws.js';
import type { ChannelFrame } from '../support/ws.js';

const KEY = 'killed-publish-key-0123';
let redis: TestRedis;
let a: ServerProcess;
let b: TestApp;

beforeAll(async () => {
  redis = await startRedis();
  a = await startServerProcess({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    REDIS_URL: redis.url,
    NODE_NAME: 'doomed',
    PROTOCOLS: 'pubsub',
    PUBLISH_API_KEY: KEY,
  });
  b = await startApp({
    redisUrl: redis.url,
    env: { NODE_NAME: 'survivor', PUBLISH_API_KEY: KEY },
  });
}, 60_000);

afterAll(async () => {
  await a?.stop();
  await b?.close();
  await redis?.stop();
});

const publish = async (url: string, channel: string, data: unknown): Promise<number> =>
  (await publishApi(url, KEY, `pubsub:${channel}`, data)).offset;

it('gives a client of a SIGKILLed instance exactly the 5 it missed on the other, then live ones', async () => {
  const first = await openWs(`ws://127.0.0.1:${a.port}/pubsub`);
  const ack = await subscribe(first, 'orders');
  for (const n of [1, 2]) await publish(a.url, 'orders', { n });
  const last = (await first.next(isMessage('orders', { n: 2 }))) as ChannelFrame;
  // Where the client stands: the epoch from the acknowledgement, the offset of its last message.
  const position = { epoch: ack.epoch, offset: last.offset as number };
  expect(position.offset).toBe(ack.offset + 2);

  a.child.kill('SIGKILL');
  expect(await a.exited()).toEqual({ code: null, signal: 'SIGKILL' });
  // No close frame from a killed process: the connection just ends.
  expect(await first.closed()).toBe(1006);

  const missed: number[] = [];
  for (const n of [3, 4, 5, 6, 7]) missed.push(await publish(b.url, 'orders', { n }));

  const back = await openWs(`ws://127.0.0.1:${b.port}/pubsub`);
  const recovered = await subscribe(back, 'orders', position);
  expect(recovered).toMatchObject({
    epoch: ack.epoch,
    offset: position.offset + 5,
    recovered: true,
  });
  await back.next(isMessage('orders', { n: 7 }));
  const live = await publish(b.url, 'orders', { n: 8 });
  await back.next(isMessage('orders', { n: 8 }));

  const got = (back.received.filter(isMessage('orders')) as ChannelFrame[]).map((f) => [
    f.offset,
    f.message,
  ]);
  expect(got).toEqual([...missed.map((offset, i) => [offset, { n: i + 3 }]), [live, { n: 8 }]]);
  expect(missed).toEqual([1, 2, 3, 4, 5].map((i) => position.offset + i));
  // The acknowledgement came first, before any of them.
  expect(back.received.findIndex(isControl('Subscribed to orders'))).toBeLessThan(
    back.received.findIndex(isMessage('orders')),
  );
  back.close();
}, 60_000);
