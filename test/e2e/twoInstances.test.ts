// Scaling out: two instances on one Redis each serve their own clients the same stream.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { openSse, waitUntil } from '../support/sse.js';

let redis: TestRedis;
let apps: TestApp[];

beforeAll(async () => {
  redis = await startRedis();
  apps = await Promise.all([startApp({ redisUrl: redis.url }), startApp({ redisUrl: redis.url })]);
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await redis.stop();
});

it('two instances on one Redis deliver the same messages to their own clients', async () => {
  const clients = await Promise.all(
    apps.flatMap((a) => [
      openSse(`${a.url}/subscribe/raw`),
      openSse(`${a.url}/subscribe/details/2665`),
    ]),
  );
  const pub = redis.client();
  await waitUntil(
    async () =>
      Number(((await pub.pubsub('NUMSUB', 'stream.score_updates')) as [string, number])[1]) === 2 &&
      // NUMPAT counts distinct patterns, not subscribers: count the connections instead.
      ((await pub.client('LIST')) as string).split('\n').filter((l) => / psub=1 /.test(l))
        .length === 2,
    5_000,
    'a subscription per instance',
  );
  await pub.publish('stream.score_updates', '2665');
  await pub.publish('stream.tweet_updates.2665', '{"id":"1"}');
  await Promise.all(clients.map((c) => c.waitFor((e) => e.length === 1)));
  expect(clients.map((c) => c.events()[0]?.data)).toEqual([
    '2665',
    '{"id":"1"}',
    '2665',
    '{"id":"1"}',
  ]);
  for (const [i, a] of apps.entries())
    expect(a.streamer.hub.clientCount(), `instance ${i}`).toBe(2);
  for (const c of clients) c.close();
});
