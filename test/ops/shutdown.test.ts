// Graceful shutdown of a real server process: with thousands of SSE clients
// connected, SIGTERM makes every one of them receive a retry line and see its
// stream end, the node leave the status hash, a last statsd sample go out, and
// the process exit 0 within its bound. SIGINT does the same on the demo bus.
// The generous test timeouts cover starting a process (tsx) on a busy machine.
import { createSocket } from 'node:dgram';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { waitUntil } from '../support/sse.js';
import { streamFrom } from './clientFrom.js';
import type { StreamFrom } from './clientFrom.js';

const CLIENTS = 2_000;
const SHUTDOWN_TIMEOUT_MS = 10_000;

let redis: TestRedis;
let cmd: Redis;
let server: ServerProcess | undefined;
const clients: StreamFrom[] = [];

beforeAll(async () => {
  redis = await startRedis();
  cmd = redis.client();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

async function connectMany(url: string, n: number): Promise<void> {
  const paths = ['/subscribe/eps', '/subscribe/raw', '/subscribe/details/1F602'];
  for (let i = 0; i < n; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 100); j++)
      batch.push(streamFrom(`${url}${paths[j % paths.length]}`, '127.0.0.1'));
    clients.push(...(await Promise.all(batch)));
  }
}

describe('shutdown', () => {
  it(`on SIGTERM with ${CLIENTS} clients: retry lines, streams ended, Redis left clean, exit 0 in time`, async () => {
    const statsd = createSocket('udp4');
    const metricLines: string[] = [];
    statsd.on('message', (m) => metricLines.push(...m.toString('utf8').split('\n')));
    await new Promise<void>((r) => statsd.bind(0, '127.0.0.1', r));
    try {
      server = await startServerProcess({
        PORT: '0',
        HOST: '127.0.0.1',
        REDIS_URL: redis.url,
        NODE_NAME: 'proc-node',
        LOG_LEVEL: 'info',
        STATUS_HASH: 'true',
        STATUS_REPORT_MS: '100',
        STATSD_HOST: '127.0.0.1',
        STATSD_PORT: String(statsd.address().port),
        METRICS_INTERVAL_MS: '60000',
        SHUTDOWN_RETRY_MS: '2500',
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      });
      await connectMany(server.url, CLIENTS);
      expect(clients.every((c) => c.status === 200)).toBe(true);
      await waitUntil(
        async () => {
          const s = (await (await fetch(`${server?.url}/admin/status.json`)).json()) as {
            connections_total: number;
          };
          return s.connections_total === CLIENTS;
        },
        10_000,
        'all clients registered',
      );
      await waitUntil(async () => (await cmd.hexists('admin_stream_status', 'proc-node')) === 1);
      expect(Number((await cmd.pubsub('NUMSUB', 'stream.score_updates'))[1])).toBe(1);

      const signalledAt = Date.now();
      server.child.kill('SIGTERM');
      const exit = await server.exited();
      const tookMs = Date.now() - signalledAt;

      expect({ ...exit, stderr: server.stderr() }).toEqual({ code: 0, signal: null, stderr: '' });
      expect(tookMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
      await Promise.all(clients.map((c) => c.ended()));
      const tails = clients
        .map((c) => c.text().slice(-40))
        .filter((t) => !t.endsWith('retry:2500\n\n'));
      expect(tails).toEqual([]);

      // Redis: the node's status entry is gone and so are its subscriptions.
      expect(await cmd.hexists('admin_stream_status', 'proc-node')).toBe(0);
      expect(Number((await cmd.pubsub('NUMSUB', 'stream.score_updates'))[1])).toBe(0);
      expect(Number(await cmd.pubsub('NUMPAT'))).toBe(0);
      // statsd: the last sample went out before the exit (the interval never fired).
      await waitUntil(() =>
        metricLines.some((l) => l.startsWith('rx-streamer.stream.connections.opened:')),
      );

      // Logs: JSON lines, the shutdown announced and completed.
      const logs = server.logs();
      expect(logs.every((l) => l.level !== 'unparsed')).toBe(true);
      const start = logs.find((l) => l.message === 'shutting down');
      expect(start).toMatchObject({ signal: 'SIGTERM', clients: CLIENTS, node: 'proc-node' });
      expect(logs.find((l) => l.message === 'shut down')).toMatchObject({ signal: 'SIGTERM' });
      console.info(`SIGTERM with ${CLIENTS} SSE clients: exited 0 after ${tookMs} ms`);
    } finally {
      statsd.close();
    }
  }, 90_000);

  it('on SIGINT, on the embedded demo bus, exits 0 too', async () => {
    server = await startServerProcess({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    await connectMany(server.url, 30);
    await waitUntil(() => clients.every((c) => c.text().includes('data:')), 30_000, 'demo data');
    server.child.kill('SIGINT');
    const exit = await server.exited();
    expect({ ...exit, stderr: server.stderr() }).toEqual({ code: 0, signal: null, stderr: '' });
    await Promise.all(clients.map((c) => c.ended()));
    const tails = clients
      .map((c) => c.text().slice(-40))
      .filter((t) => !t.endsWith('retry:1000\n\n'));
    expect(tails).toEqual([]);
  }, 90_000);
});
