// Anonymous pub/sub clients publishing megabyte messages as fast as they can,
// against a real server process and a real Redis with its default output-buffer
// limit for subscribers: the publishes past PUBSUB_PUBLISH_RATE and
// PUBSUB_PUBLISH_BYTES_PER_S get control errors instead of reaching Redis, so
// Redis never cuts the server's one subscriber connection, and a notification
// stream open meanwhile stays `ok` and receives every room message.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openNotify } from '../support/notify.js';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { isControl, openWs } from '../support/ws.js';

let redis: TestRedis;
let server: ServerProcess;

beforeAll(async () => {
  redis = await startRedis();
  server = await startServerProcess({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    REDIS_URL: redis.url,
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await redis?.stop();
});

it('megabyte publishes as fast as two clients can send them: the subscriber survives, nothing is lost', async () => {
  const cli = redis.client();
  await cli.sadd('user:u1:channels', 'user:u1', 'room:r');
  const stream = await openNotify(`${server.url}/?user=u1`);
  await stream.waitStatus('ok');

  const subscriber = await openWs(`ws://127.0.0.1:${server.port}/pubsub`);
  subscriber.send({ action: 'subscribe', payload: { channel: 'big' } });
  await subscriber.next(isControl('Subscribed to big'));
  const publishers = await Promise.all(
    [1, 2].map(() => openWs(`ws://127.0.0.1:${server.port}/pubsub`)),
  );
  const message = 'm'.repeat(1_000_000);
  let flooding = true;
  const flood = async (c: (typeof publishers)[number]) => {
    while (flooding) {
      // As fast as the socket takes them: wait only for ws's own buffer to drain.
      if (c.ws.bufferedAmount < 4_000_000)
        c.send({ action: 'publish', payload: { channel: 'big', message } });
      await new Promise((r) => setImmediate(r));
    }
  };
  const flooders = publishers.map(flood);
  for (let i = 0; i < 18; i++) {
    await cli.publish('room:r', `room message ${i}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  flooding = false;
  await Promise.all(flooders);

  await stream.waitFor(
    () => stream.messages().filter((m) => m.startsWith('room message')).length === 18,
    'all 18 room messages',
    10_000,
  );
  expect(stream.statuses()).toEqual(['ok']);
  // Most publishes were refused, and said so.
  expect(publishers.some((p) => p.received.some(isControl(/^publishing too fast/, true)))).toBe(
    true,
  );
  // Redis never closed the server's subscriber: it is the same connection it was.
  const clients = (await cli.client('LIST')) as string;
  const subscribers = clients.split('\n').filter((l) => l.includes('name=rx-streamer:subscriber'));
  expect(subscribers).toHaveLength(1);
  expect(Number(/ age=(\d+)/.exec(subscribers[0] as string)?.[1])).toBeGreaterThanOrEqual(4);
  expect(server.logs().filter((l) => l.level === 'error')).toEqual([]);
  for (const c of [subscriber, ...publishers]) c.close();
  stream.close();
}, 60_000);
