// RedisPubSub on a six-node Redis Cluster through a master's failover: a channel
// confirmed on the killed master's connection is no longer live until Redis
// confirms it on the replica's, readiness names the missing subscriber
// meanwhile, and a message published once live() says so is delivered.
import { firstValueFrom, take, timeout } from 'rxjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keySlot } from '../../src/sources/keySlot.js';
import { RedisPubSub } from '../../src/sources/RedisPubSub.js';
import type { BusMessage } from '../../src/core/message.js';
import { startRedisCluster } from '../support/redisCluster.js';
import type { TestRedisCluster } from '../support/redisCluster.js';
import { waitUntil } from '../support/sse.js';

let cluster: TestRedisCluster;
let source: RedisPubSub;

beforeAll(async () => {
  cluster = await startRedisCluster();
  source = new RedisPubSub(
    { cluster: [{ host: '127.0.0.1', port: cluster.ports[0] as number }] },
    { graceMs: 0, shardedChannels: ['s.*'] },
  );
}, 60_000);

afterAll(async () => {
  await source?.close();
  await cluster?.stop();
});

const live = (channel: string, ms: number) =>
  firstValueFrom(source.live(channel).pipe(timeout(ms)), { defaultValue: undefined });

/** Whether live() answers within `ms`. */
const liveWithin = (channel: string, ms: number) =>
  live(channel, ms).then(
    () => true,
    () => false,
  );

it('is not live while its master is failed over, says why, and delivers once live again', async () => {
  const channel = 's.failover';
  const received: BusMessage[] = [];
  const sub = source.channel(channel).subscribe((m) => received.push(m));
  expect(await liveWithin(channel, 10_000)).toBe(true);
  expect(source.readiness()).toEqual({ ready: true });

  const killed = cluster.killMaster(await cluster.masterOf(keySlot(channel)));
  // The sharded subscriber of the slot closes with its node: the channel is no longer live.
  const reasons = new Set<string>();
  await waitUntil(
    () => {
      const r = source.readiness();
      if (!r.ready && r.reason) reasons.add(r.reason);
      return !r.ready;
    },
    5_000,
    'readiness to see the lost subscriber',
  );
  expect([...reasons].join()).toMatch(/resubscribing/);
  expect(await liveWithin(channel, 100)).toBe(false);
  await killed;

  // Once the replica's connection has confirmed the SSUBSCRIBE, live() answers, and a
  // message published right after is delivered.
  expect(await liveWithin(channel, 10_000)).toBe(true);
  await cluster.client().spublish(channel, 'after');
  await waitUntil(() => received.some((m) => m.payload === 'after'), 5_000, 'the message');
  await waitUntil(() => source.readiness().ready, 5_000, 'ready again');
  sub.unsubscribe();
}, 60_000);

it('a channel subscribed after the failover goes live on the new master at once', async () => {
  const sub = source.channel('s.later').pipe(take(1)).subscribe();
  expect(await liveWithin('s.later', 10_000)).toBe(true);
  sub.unsubscribe();
  expect(source.cacheSizes()).toMatchObject({ listeners: 0, waiting: 0 });
});
