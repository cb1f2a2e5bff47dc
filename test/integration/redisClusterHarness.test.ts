// The test cluster itself: six nodes, every slot served, a killed master failed over.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedisCluster } from '../support/redisCluster.js';
import type { TestRedisCluster } from '../support/redisCluster.js';

let cluster: TestRedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

it('serves keys on every master and fails a killed master over to its replica', async () => {
  const c = cluster.client();
  await c.set('a', '1');
  await c.set('b', '2');
  expect(await c.get('a')).toBe('1');
  const killed = await cluster.masterOf(0);
  await cluster.killMaster(killed);
  const now = await cluster.masterOf(0);
  expect(now).not.toBe(killed);
  expect(cluster.ports).toContain(now);
}, 60_000);
