// WORKERS=2: two processes share the port, each with its own Redis subscription;
// status.json says which worker answered, every client gets the stream, and
// SIGTERM to the primary ends them all with exit code 0.
import { get } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { freePort, startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { openSse, waitUntil } from '../support/sse.js';

let redis: TestRedis;
let server: ServerProcess;

/** A fresh connection per request, so the cluster may hand it to either worker. */
function statusOnce(url: string): Promise<{ worker: number; pid: number; node: string }> {
  return new Promise((resolve, reject) => {
    get(`${url}/admin/status.json`, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve(JSON.parse(body) as { worker: number; pid: number; node: string }),
      );
    }).on('error', reject);
  });
}

beforeAll(async () => {
  redis = await startRedis();
  const port = await freePort();
  server = await startServerProcess({
    WORKERS: '2',
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    NODE_NAME: 'multi',
    LOG_LEVEL: 'info',
  });
  // Both workers log that they listen; wait for the second too.
  await waitUntil(
    () => server.logs().filter((l) => l.message.includes('listening')).length === 2,
    20_000,
    'two workers',
  );
}, 60_000);

afterAll(async () => {
  await server.stop();
  await redis.stop();
});

it('serves from two workers, each subscribed to Redis, and stops on SIGTERM', async () => {
  const seen = new Map<number, string>();
  await waitUntil(
    async () => {
      const s = await statusOnce(server.url);
      seen.set(s.worker, s.node);
      return seen.size === 2;
    },
    20_000,
    'answers from both workers',
  );
  expect([...seen.keys()].sort()).toEqual([1, 2]);
  expect([...seen.values()].sort()).toEqual(['multi-w1', 'multi-w2']);

  const clients = await Promise.all(
    Array.from({ length: 10 }, () => openSse(`${server.url}/subscribe/raw`)),
  );
  const pub = redis.client();
  const numsub = async () =>
    Number(((await pub.pubsub('NUMSUB', 'stream.score_updates')) as [string, number])[1]);
  await waitUntil(async () => (await numsub()) === 2, 10_000, 'a subscription per worker');
  await pub.publish('stream.score_updates', '1F602');
  await Promise.all(
    clients.map((c) => c.waitFor((e) => e.length === 1 && e[0]?.data === '1F602', 10_000)),
  );

  server.child.kill('SIGTERM');
  const { code } = await server.exited();
  expect(code).toBe(0);
  await Promise.all(clients.map((c) => c.ended()));
}, 60_000);
