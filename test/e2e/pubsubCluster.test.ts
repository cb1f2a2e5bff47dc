// Pub/sub on a six-node Redis Cluster with sharded channels (SSUBSCRIBE/SPUBLISH):
// two instances share it, outside SPUBLISH reaches both, and a SIGKILLed master's
// replica takes over while the instances keep running.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { clusterSubscriberFor } from '../../src/sources/clusterSubscribers.js';
import { keySlot } from '../../src/sources/keySlot.js';
import { RedisPubSub } from '../../src/sources/RedisPubSub.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { startRedisCluster } from '../support/redisCluster.js';
import type { TestRedisCluster } from '../support/redisCluster.js';
import { isControl, isMessage, openWs } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

let cluster: TestRedisCluster;
let apps: TestApp[];
const open: WsClient[] = [];

async function subscribed(app: TestApp, channel: string): Promise<WsClient> {
  const c = await openWs(`ws://127.0.0.1:${app.port}/pubsub`);
  open.push(c);
  c.send({ action: 'subscribe', payload: { channel } });
  await c.next(isControl(`Subscribed to ${channel}`), 10_000, `the ack of ${channel}`);
  return c;
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  const env = { REDIS_SHARDED_CHANNELS: 'pubsub:*' };
  apps = await Promise.all([
    startApp({ redisCluster: cluster.seeds, env }),
    startApp({ redisCluster: cluster.seeds, env }),
  ]);
}, 60_000);

afterAll(async () => {
  for (const c of open) c.close();
  await Promise.all((apps ?? []).map((a) => a.close()));
  await cluster?.stop();
});

it('computes slots as the cluster does', async () => {
  const c = cluster.client();
  for (const key of ['pubsub:room.1', 'rxs:history:{pubsub:room.1}:meta', 'a{}b', 'x{y}z', 'ü'])
    expect(keySlot(key), key).toBe(await c.cluster('KEYSLOT', key));
});

it('delivers a client publish on one instance to clients on both', async () => {
  const [a, b] = await Promise.all(apps.map((app) => subscribed(app, 'room.1')));
  (b as WsClient).send({ action: 'publish', payload: { channel: 'room.1', message: { n: 1 } } });
  for (const c of [a, b])
    expect(await (c as WsClient).next(isMessage('room.1'), 10_000)).toMatchObject({
      channel: 'room.1',
      message: { n: 1 },
      offset: 1,
    });
});

it('delivers an outside SPUBLISH to both instances', async () => {
  const clients = await Promise.all(apps.map((app) => subscribed(app, 'room.2')));
  await cluster.client().spublish('pubsub:room.2', '{"outside":true}');
  for (const c of clients)
    expect(await c.next(isMessage('room.2'), 10_000)).toMatchObject({
      message: { outside: true },
    });
});

it('reaches the sharded subscriber connection ioredis keeps private (synced() PINGs it)', async () => {
  const source = new RedisPubSub(
    { cluster: [{ host: '127.0.0.1', port: cluster.ports[0] as number }] },
    { graceMs: 0, shardedChannels: ['s.*'] },
  );
  const sub = source.channel('s.1').subscribe();
  const classic = source.channel('c.1').subscribe();
  await new Promise<void>((resolve) => source.live('s.1').subscribe(() => resolve()));
  await new Promise<void>((resolve) => source.live('c.1').subscribe(() => resolve()));
  expect(source.connection).toBeInstanceOf(Cluster);
  expect(clusterSubscriberFor(source.connection as Cluster, 's.1')?.status).toBe('ready');
  expect(clusterSubscriberFor(source.connection as Cluster)?.status).toBe('ready');
  await source.synced('s.1');
  await source.synced('c.1');
  sub.unsubscribe();
  classic.unsubscribe();
  await source.close();
});

it('flows again after the master of a channel is SIGKILLed, and /readyz says what is missing meanwhile', async () => {
  const clients = await Promise.all(apps.map((app) => subscribed(app, 'room.3')));
  const master = await cluster.masterOf(keySlot('pubsub:room.3'));
  const killed = cluster.killMaster(master);
  const answers = new Set<number>();
  const reasons = new Set<string>();
  const poll = setInterval(() => {
    for (const app of apps)
      void fetch(`${app.url}/readyz`).then(
        async (r) => {
          answers.add(r.status);
          if (r.status === 503) reasons.add(((await r.json()) as { reason: string }).reason);
        },
        () => answers.add(0),
      );
  }, 100);
  await killed;
  const publisher = cluster.client();
  let n = 0;
  const publishing = setInterval(() => {
    void publisher.spublish('pubsub:room.3', JSON.stringify({ n: ++n })).catch(() => undefined);
  }, 100);
  try {
    for (const c of clients) await c.next(isMessage('room.3'), 10_000, 'a message after failover');
  } finally {
    clearInterval(publishing);
    clearInterval(poll);
  }
  // Each instance answered every /readyz: ready, or 503 naming the subscriber being
  // replaced; none went away.
  expect([...answers].every((s) => s === 200 || s === 503)).toBe(true);
  expect([...reasons].join('; ')).toMatch(/redis subscriber .* resubscribing/);
  for (const app of apps) expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
}, 60_000);
