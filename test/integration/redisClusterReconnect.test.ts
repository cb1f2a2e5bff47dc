// A Cluster client that must connect again after its only seed node is gone:
// it starts from the nodes it has seen (connectRedis keeps ioredis's private
// list of start-up nodes up to date), so it reaches the cluster that still serves.
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectRedis } from '../../src/sources/redisClient.js';
import { startRedisCluster } from '../support/redisCluster.js';
import type { TestRedisCluster } from '../support/redisCluster.js';

let cluster: TestRedisCluster;
let client: Cluster | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

const within = <T>(ms: number, what: string, p: Promise<T>): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms),
    ),
  ]);

it('connects again through the nodes it has seen once its one seed is dead', async () => {
  const seed = await cluster.masterOf(0);
  client = connectRedis(
    { cluster: [{ host: '127.0.0.1', port: seed }] },
    { retryStrategy: () => 200 },
  ) as Cluster;
  client.on('error', () => undefined);
  const refreshed = new Promise((resolve) => client?.once('refresh', resolve));
  await client.set('before', '1');
  await refreshed;
  // The private field ioredis starts from: the nodes it has seen are in it now.
  const startup = (client as unknown as { startupNodes: { port: number }[] }).startupNodes;
  expect(startup.length).toBeGreaterThan(1);
  for (const { port } of startup) expect(cluster.ports).toContain(port);

  await cluster.killMaster(seed);
  // Every connection dropped: a reconnection starts from the start-up nodes.
  client.disconnect(true);
  await within(15_000, 'a write after reconnecting', client.set('after', '2'));
  expect(await client.get('before')).toBe('1');
  expect(await client.get('after')).toBe('2');
}, 60_000);
