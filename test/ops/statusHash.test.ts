// The status hash on a real redis-server: HSET admin_stream_status <node>
// <compact JSON> every STATUS_REPORT_MS, read back with HGETALL as an admin
// dashboard would, and removed when the node shuts down.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { openSse, waitUntil } from '../support/sse.js';
import type { RawSse } from '../support/sse.js';
import type { StatusDocument } from '../support/status.js';

type Status = StatusDocument;

let redis: TestRedis;
let cmd: Redis;
let app: TestApp | undefined;
const streams: RawSse[] = [];

beforeAll(async () => {
  redis = await startRedis();
  cmd = redis.client();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await app?.close();
  app = undefined;
  await cmd.del('admin_stream_status');
});

async function entries(): Promise<Record<string, Status>> {
  const all = await cmd.hgetall('admin_stream_status');
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, JSON.parse(v) as Status]));
}

describe('status hash', () => {
  it('writes this node’s compact status JSON, fresh, with the connections, and keeps it current', async () => {
    app = await startApp({
      redisUrl: redis.url,
      env: { STATUS_HASH: 'true', STATUS_REPORT_MS: '100', NODE_NAME: 'node-a' },
    });
    const eps = await openSse(`${app.url}/subscribe/eps`, { headers: { 'User-Agent': 'ua/1' } });
    streams.push(eps);
    await waitUntil(async () => (await entries())['node-a']?.connections.length === 1, 5_000);

    const raw = (await cmd.hget('admin_stream_status', 'node-a')) as string;
    expect(raw).not.toMatch(/\n|": /); // compact
    const status = JSON.parse(raw) as Status;
    const now = Date.now() / 1000;
    expect(status).toMatchObject({ node: 'node-a', status: 'OK' });
    expect(now - status.reported_at).toBeLessThan(50); // what dashboards accept
    expect(status.reported_at).toBeGreaterThanOrEqual(status.startup_time);
    expect(status.connections[0]).toEqual({
      request_path: '/subscribe/eps',
      namespace: '/eps',
      created_at: expect.any(Number) as number,
      client_ip: '127.0.0.1',
      user_agent: 'ua/1',
      msgs_sent: 0,
    });

    // It follows the node: the stream going away shows up in a later report.
    eps.close();
    await waitUntil(async () => (await entries())['node-a']?.connections.length === 0, 5_000);
    // Counted once Redis answered, which may be just after the hash shows it.
    await waitUntil(() => (app?.streamer.operations.statusHash?.written ?? 0) > 1, 5_000);
  });

  it('holds one entry per node and drops a node’s entry when it shuts down', async () => {
    const env = { STATUS_HASH: 'true', STATUS_REPORT_MS: '100' };
    app = await startApp({ redisUrl: redis.url, env: { ...env, NODE_NAME: 'node-a' } });
    const other = await startApp({ redisUrl: redis.url, env: { ...env, NODE_NAME: 'node-b' } });
    try {
      await waitUntil(async () => Object.keys(await entries()).length === 2, 5_000, 'two nodes');
      expect(Object.keys(await entries()).sort()).toEqual(['node-a', 'node-b']);
    } finally {
      await other.close();
    }
    expect(Object.keys(await entries())).toEqual(['node-a']);
  });

  it('is off in development and test unless asked for, on in staging and production', async () => {
    app = await startApp({ redisUrl: redis.url, env: { STATUS_REPORT_MS: '50' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(await cmd.exists('admin_stream_status')).toBe(0);
    expect(app.streamer.operations.statusHash).toBeUndefined();

    expect(loadConfig({ NODE_ENV: 'production' }).statusHash).toBe(true);
    expect(loadConfig({ NODE_ENV: 'staging' }).statusHash).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development' }).statusHash).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', STATUS_HASH: 'no' }).statusHash).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test', STATUS_HASH: '1' }).statusHash).toBe(true);
  });

  it('rides out Redis going away and writes again when it is back', async () => {
    app = await startApp({
      redisUrl: redis.url,
      env: { STATUS_HASH: 'true', STATUS_REPORT_MS: '100', NODE_NAME: 'node-a' },
    });
    await waitUntil(async () => (await entries())['node-a'] !== undefined, 5_000);
    await redis.kill();
    await new Promise((r) => setTimeout(r, 300));
    await redis.restart(); // an empty Redis: no persistence in the test server
    cmd = redis.client();
    await waitUntil(async () => (await entries())['node-a'] !== undefined, 15_000, 'rewrite');
  });
});
