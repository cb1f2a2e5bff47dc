// Site streams lose nothing across restarts: an instance killed (SIGKILL) with
// an entry read but not acknowledged delivers it when it comes back under the
// same NODE_NAME, and a Redis that comes back empty (no stream, no group) is
// read again from its new stream.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/sse.js';
import { isControl, openWs } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

const KEY = 'datastream:incoming';

let redis: TestRedis;
let cli: Redis;
const cleanup: (() => unknown)[] = [];

const isSite = (site: string) => (frame: unknown) => (frame as { site?: unknown })?.site === site;
const dataOf = (c: WsClient, site: string) =>
  c.received.filter(isSite(site)).map((f) => (f as { data: unknown }).data);

async function siteClient(port: number, site: string): Promise<WsClient> {
  const c = await openWs(`ws://127.0.0.1:${port}/datastream?site=${site}`);
  cleanup.push(() => c.close());
  await c.next(isControl(`Subscribed to site ${site}`));
  return c;
}

beforeAll(async () => {
  redis = await startRedis();
  cli = redis.client();
});

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

afterAll(async () => {
  await redis.stop();
});

/** The entries read by `group` and not yet acknowledged. */
async function pendingOf(group: string): Promise<number> {
  const [count] = (await cli.xpending(KEY, group)) as [number];
  return count;
}

describe('an instance killed before acknowledging', () => {
  it('delivers the unacknowledged entry, and what came while it was down, after a restart', async () => {
    const group = 'rx-streamer:killed-node';
    const env = {
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: redis.url,
      NODE_NAME: 'killed-node',
      DATASTREAM_BLOCK_MS: '60000',
      // Time for the site's client to come back before the backlog is read.
      DATASTREAM_RESUME_DELAY_MS: '1500',
    };
    let server: ServerProcess | undefined = await startServerProcess(env);
    cleanup.push(() => server?.stop());
    const first = await siteClient(server.port, 'kill');
    await waitUntil(
      async () => ((await cli.xinfo('GROUPS', KEY).catch(() => [])) as unknown[]).length > 0,
    );
    await cli.xadd(KEY, '*', 'site', 'kill', 'topic', 't', 'data', '1');
    await waitUntil(() => dataOf(first, 'kill').length === 1);
    await waitUntil(async () => (await pendingOf(group)) === 0);

    // Frozen while its XREADGROUP waits: Redis hands it the next entry, which
    // it can neither deliver nor acknowledge; then it dies.
    server.child.kill('SIGSTOP');
    await cli.xadd(KEY, '*', 'site', 'kill', 'topic', 't', 'data', '2');
    await waitUntil(async () => (await pendingOf(group)) === 1);
    server.child.kill('SIGKILL');
    await server.exited();
    await cli.xadd(KEY, '*', 'site', 'kill', 'topic', 't', 'data', '3');

    server = await startServerProcess(env);
    const second = await siteClient(server.port, 'kill');
    await waitUntil(() => dataOf(second, 'kill').length === 2, 15_000);
    expect(dataOf(second, 'kill')).toEqual([2, 3]);
    await waitUntil(async () => (await pendingOf(group)) === 0);
    expect(dataOf(first, 'kill')).toEqual([1]);
  }, 90_000);
});

describe('a Redis restart mid-stream', () => {
  it('goes on delivering once Redis is back, from the new stream', async () => {
    const app = await startApp({
      redisUrl: redis.url,
      env: {
        NODE_NAME: 'redis-restart',
        DATASTREAM_RESUME_DELAY_MS: '0',
        DATASTREAM_BLOCK_MS: '200',
      },
    });
    cleanup.push(() => app.close());
    const c = await siteClient(app.port, 'rr');
    await waitUntil(async () =>
      ((await cli.xinfo('GROUPS', KEY).catch(() => [])) as unknown[][]).some((g) =>
        g.includes('rx-streamer:redis-restart'),
      ),
    );
    await cli.xadd(KEY, '*', 'site', 'rr', 'topic', 't', 'data', '"before"');
    await waitUntil(() => dataOf(c, 'rr').length === 1);

    // The test Redis keeps nothing on disk: it comes back empty, with no group.
    await redis.kill(true);
    await redis.restart();
    await waitUntil(async () => {
      try {
        await cli.xadd(KEY, '*', 'site', 'rr', 'topic', 't', 'data', '"after"');
        return true;
      } catch {
        return false;
      }
    }, 10_000);
    await waitUntil(() => dataOf(c, 'rr').includes('after'), 15_000);
    expect(dataOf(c, 'rr')[0]).toBe('before');
  });
});

describe('a group lost while its stream is kept (a failover that lost it)', () => {
  it('starts again after the last entry it read: nothing twice, nothing lost', async () => {
    const app = await startApp({
      redisUrl: redis.url,
      env: {
        NODE_NAME: 'group-lost',
        DATASTREAM_RESUME_DELAY_MS: '0',
        DATASTREAM_BLOCK_MS: '200',
      },
    });
    cleanup.push(() => app.close());
    const c = await siteClient(app.port, 'gl');
    const group = 'rx-streamer:group-lost';
    await waitUntil(async () =>
      ((await cli.xinfo('GROUPS', KEY).catch(() => [])) as unknown[][]).some((g) =>
        g.includes(group),
      ),
    );
    for (const data of ['a', 'b', 'c'])
      await cli.xadd(KEY, '*', 'site', 'gl', 'topic', 't', 'data', JSON.stringify(data));
    await waitUntil(() => dataOf(c, 'gl').length === 3);

    await cli.xgroup('DESTROY', KEY, group);
    await cli.xadd(KEY, '*', 'site', 'gl', 'topic', 't', 'data', '"d"');
    await waitUntil(() => dataOf(c, 'gl').includes('d'), 15_000);
    await cli.xadd(KEY, '*', 'site', 'gl', 'topic', 't', 'data', '"e"');
    await waitUntil(() => dataOf(c, 'gl').includes('e'), 15_000);
    expect(dataOf(c, 'gl')).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});
