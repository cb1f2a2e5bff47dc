// Logs from a real server process: JSON lines on stdout, each naming its
// component; CONNECT and DISCONNECT lines only with VERBOSE; Redis state
// changes always.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { startServerProcess } from '../support/process.js';
import type { LogLine, ServerProcess } from '../support/process.js';
import { openSse, waitUntil } from '../support/sse.js';

let redis: TestRedis;
let server: ServerProcess | undefined;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const find = (message: string) => server?.logs().find((l: LogLine) => l.message === message);

describe('logs', () => {
  it('with VERBOSE: a CONNECT and a DISCONNECT line per stream, with path, IP, agent, duration and messages', async () => {
    server = await startServerProcess({
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: redis.url,
      NODE_NAME: 'log-node',
      VERBOSE: 'true',
      EPS_INTERVAL_MS: '20',
    });
    await waitUntil(() => find('redis ready') !== undefined, 10_000, 'redis ready log');
    expect(find('redis ready')).toMatchObject({ level: 'info', component: 'redis-pubsub' });

    const eps = await openSse(`${server.url}/subscribe/eps`, {
      headers: { 'User-Agent': 'log-ua' },
    });
    await waitUntil(() => find('CONNECT') !== undefined, 5_000, 'CONNECT');
    const pub = redis.client();
    await waitUntil(
      async () => Number((await pub.pubsub('NUMSUB', 'stream.score_updates'))[1]) > 0,
    );
    await pub.publish('stream.score_updates', '1F602');
    await eps.waitFor((events) => events.length === 1);
    eps.close();
    await waitUntil(() => find('DISCONNECT') !== undefined, 5_000, 'DISCONNECT');

    expect(find('CONNECT')).toMatchObject({
      level: 'info',
      component: 'sse',
      node: 'log-node',
      requestPath: '/subscribe/eps',
      clientIp: '127.0.0.1',
      userAgent: 'log-ua',
    });
    const disconnect = find('DISCONNECT');
    expect(disconnect).toMatchObject({
      requestPath: '/subscribe/eps',
      userAgent: 'log-ua',
      msgsSent: 1,
    });
    expect(disconnect?.durationMs).toEqual(expect.any(Number));
    for (const line of server.logs()) {
      expect(line.level).not.toBe('unparsed');
      expect(typeof line.timestamp).toBe('string');
    }

    // Redis going away and coming back is always logged.
    await redis.kill();
    await waitUntil(() => find('redis reconnecting') !== undefined, 10_000, 'reconnecting log');
    await redis.restart();
    await waitUntil(() => find('redis reconnected') !== undefined, 10_000, 'reconnected log');
  }, 90_000);

  it('without VERBOSE: no per-connection lines', async () => {
    server = await startServerProcess({ PORT: '0', HOST: '127.0.0.1', REDIS_URL: redis.url });
    const eps = await openSse(`${server.url}/subscribe/eps`);
    await new Promise((r) => setTimeout(r, 200));
    eps.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(find('CONNECT')).toBeUndefined();
    expect(find('DISCONNECT')).toBeUndefined();
  }, 90_000);
});
