// The publish paths a person or an app drives, on a six-node Redis Cluster with
// sharded channels (REDIS_SHARDED_CHANNELS): publish() on a Cluster client, and
// `npm run publish:message` and `npm run feed` as real tsx processes on REDIS_CLUSTER_NODES.
// A sharded channel goes out with SPUBLISH (an SSUBSCRIBEr gets it, a plain
// SUBSCRIBEr does not), any other with PUBLISH, and the history keeps both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { untagged } from '../../src/core/position.js';
import { publish } from '../../src/sources/publishWithHistory.js';
import { RedisHistory } from '../../src/sources/RedisHistory.js';
import { shardedChannels } from '../../src/sources/redisClient.js';
import { runCli } from '../support/cli.js';
import { startRedisCluster } from '../support/redisCluster.js';
import type { TestRedisCluster } from '../support/redisCluster.js';

/** A CLI with `args` and, over the test's environment less the server's variables, `env`. */
const cli = (script: string, args: string[], env: Record<string, string>) =>
  runCli(script, args, env);

/** What arrives on `channel` by SSUBSCRIBE and by SUBSCRIBE, each through its own client. */
async function listen(
  channel: string,
): Promise<{ sharded: string[]; classic: string[]; stop(): void }> {
  const shardedClient = cluster.client();
  const classicClient = cluster.client();
  const sharded: string[] = [];
  const classic: string[] = [];
  shardedClient.on('smessage', (c: string, m: string) => c === channel && sharded.push(m));
  classicClient.on('message', (c: string, m: string) => c === channel && classic.push(m));
  await shardedClient.ssubscribe(channel);
  await classicClient.subscribe(channel);
  return {
    sharded,
    classic,
    stop() {
      shardedClient.disconnect();
      classicClient.disconnect();
    },
  };
}

/** Lets a message that would arrive, arrive, before checking what did not. */
const settle = () => new Promise((r) => setTimeout(r, 300));

let cluster: TestRedisCluster;
let client: Cluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
  client = cluster.client();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('publish() on a Cluster client', () => {
  it('SPUBLISHes a sharded channel, and its history keeps the message', async () => {
    const heard = await listen('pubsub:api.1');
    const first = await publish(client, 'pubsub:api.1', { n: 1 }, { sharded: true });
    const second = await publish(client, 'pubsub:api.1', 'two', {
      size: 10,
      ttlS: 60,
      sharded: shardedChannels(['pubsub:*']),
    });
    expect(second).toEqual({ epoch: first.epoch, offset: 2 });
    await expect.poll(() => heard.sharded.length).toBe(2);
    expect(heard.sharded.map(untagged)).toEqual([
      { position: first, payload: '{"n":1}' },
      { position: second, payload: 'two' },
    ]);
    await settle();
    expect(heard.classic).toEqual([]);
    heard.stop();

    const history = new RedisHistory(client, { size: 10, ttlS: 60 });
    expect(await history.recover('pubsub:api.1', { epoch: first.epoch, offset: 0 }, 10)).toEqual({
      recovered: true,
      top: second,
      publications: [
        { offset: 1, payload: '{"n":1}' },
        { offset: 2, payload: 'two' },
      ],
    });
  });

  it('PUBLISHes a channel that is not sharded, as it did before', async () => {
    const heard = await listen('room:api.2');
    const position = await publish(client, 'room:api.2', 'hi');
    const unsharded = await publish(client, 'room:api.2', 'again', {
      size: 5,
      ttlS: 60,
      sharded: shardedChannels(['pubsub:*']),
    });
    expect(unsharded).toEqual({ epoch: position.epoch, offset: 2 });
    await expect.poll(() => heard.classic.length).toBe(2);
    expect(heard.classic.map(untagged)).toEqual([
      { position, payload: 'hi' },
      { position: unsharded, payload: 'again' },
    ]);
    await settle();
    expect(heard.sharded).toEqual([]);
    heard.stop();
  });
});

// Each test spawns tsx, which takes about a second and more on a loaded machine.
describe('npm run publish:message on REDIS_CLUSTER_NODES', { timeout: 60_000 }, () => {
  it('SPUBLISHes a channel in REDIS_SHARDED_CHANNELS, PUBLISHes the others, keeps both', async () => {
    const env = { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_SHARDED_CHANNELS: 'pubsub:*' };
    const sharded = await listen('pubsub:cli.1');
    const classic = await listen('room:cli.2');
    const runs = await Promise.all([
      cli('publish', ['--channel', 'pubsub:cli.1', '--data', '{"n":1}'], env),
      cli('publish', ['--channel', 'room:cli.2', '--data', '"hi"', '--size', '3'], env),
    ]);
    const positions = runs.map((run) => {
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      return JSON.parse(run.stdout.trimEnd().split('\n').at(-1) as string) as {
        channel: string;
        epoch: string;
        offset: number;
      };
    });
    const [one, two] = positions as [(typeof positions)[0], (typeof positions)[0]];
    expect(one).toEqual({
      channel: 'pubsub:cli.1',
      epoch: expect.any(String) as string,
      offset: 1,
    });
    expect(two).toEqual({ channel: 'room:cli.2', epoch: expect.any(String) as string, offset: 1 });

    await expect.poll(() => sharded.sharded.length).toBe(1);
    await expect.poll(() => classic.classic.length).toBe(1);
    expect(untagged(sharded.sharded[0] as string)?.payload).toBe('{"n":1}');
    expect(untagged(classic.classic[0] as string)?.payload).toBe('hi');
    await settle();
    expect(sharded.classic).toEqual([]);
    expect(classic.sharded).toEqual([]);
    sharded.stop();
    classic.stop();

    const history = new RedisHistory(client, { size: 100, ttlS: 300 });
    expect(await history.recover('pubsub:cli.1', { epoch: one.epoch, offset: 0 }, 10)).toEqual({
      recovered: true,
      top: { epoch: one.epoch, offset: 1 },
      publications: [{ offset: 1, payload: '{"n":1}' }],
    });
    expect(await history.recover('room:cli.2', { epoch: two.epoch, offset: 0 }, 10)).toEqual({
      recovered: true,
      top: { epoch: two.epoch, offset: 1 },
      publications: [{ offset: 1, payload: 'hi' }],
    });
  });

  it('exits 1 with one line when no node of the cluster can be reached', async () => {
    const run = await cli('publish', ['--channel', 'a', '--data', '1'], {
      REDIS_CLUSTER_NODES: '127.0.0.1:1',
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('publish: 127.0.0.1:1: None of startup nodes is available\n');
  });
});

describe('npm run feed on REDIS_CLUSTER_NODES', { timeout: 60_000 }, () => {
  it('SPUBLISHes score updates and tweets on sharded channels, and ranks the emoji', async () => {
    const scores = await listen('stream.score_updates');
    const run = await cli('feed', ['--rate', '50', '--seconds', '2', '--seed', '7'], {
      REDIS_CLUSTER_NODES: cluster.seeds,
      REDIS_SHARDED_CHANNELS: 'stream.*',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /^feed: publishing 50 emoji uses\/s to the cluster of 127\.0\.0\.1:/,
    );
    const done = /feed: done, (\d+) messages published\n$/.exec(run.stdout);
    expect(Number(done?.[1])).toBeGreaterThan(20);

    // Every score update arrives by SSUBSCRIBE, none by SUBSCRIBE.
    await expect.poll(() => scores.sharded.length).toBeGreaterThan(10);
    await settle();
    expect(scores.classic).toEqual([]);
    expect(scores.sharded.every((id) => /^[0-9A-F]{2,6}(-[0-9A-F]+)*$/.test(id))).toBe(true);
    expect(scores.sharded.length).toBe(Number(done?.[1]) / 2);
    scores.stop();

    // The ranking counts each update: ZINCRBY on the cluster too.
    const ranked = await client.zrange('emojitrack_score', 0, -1, 'WITHSCORES');
    let total = 0;
    for (let i = 1; i < ranked.length; i += 2) total += Number(ranked[i]);
    expect(total).toBe(scores.sharded.length);
  });
});
