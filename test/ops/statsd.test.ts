// Metrics end to end: the server's statsd sink sends to a real UDP socket held
// by the test, which parses the lines; a dead or unknown host changes nothing
// for the streams; no STATSD_HOST means no client at all.
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { freePort, startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { openSse, waitUntil } from '../support/sse.js';
import type { RawSse } from '../support/sse.js';

interface Line {
  readonly name: string;
  readonly value: number;
  readonly type: string;
}

/** A statsd server as far as the test needs one: every line received, parsed. */
async function statsdReceiver(): Promise<{ socket: Socket; port: number; lines: Line[] }> {
  const socket = createSocket('udp4');
  const lines: Line[] = [];
  socket.on('message', (msg) => {
    for (const line of msg.toString('utf8').split('\n')) {
      const m = /^([^:]+):([^|]+)\|([a-z]+)$/.exec(line);
      if (!m) throw new Error(`not a statsd line: ${JSON.stringify(line)}`);
      lines.push({ name: m[1] as string, value: Number(m[2]), type: m[3] as string });
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, lines };
}

let redis: TestRedis;
let pub: Redis;
let app: TestApp | undefined;
const streams: RawSse[] = [];

beforeAll(async () => {
  redis = await startRedis();
  pub = redis.client();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await app?.close();
  app = undefined;
});

async function sse(path: string): Promise<RawSse> {
  const s = await openSse(`${app?.url}${path}`);
  streams.push(s);
  return s;
}
const sum = (lines: Line[], name: string) =>
  lines.filter((l) => l.name === name).reduce((a, l) => a + l.value, 0);
const last = (lines: Line[], name: string) => lines.filter((l) => l.name === name).at(-1)?.value;

describe('statsd metrics', () => {
  it('sends client gauges per family, counters and fan-out timings as plain statsd lines', async () => {
    const statsd = await statsdReceiver();
    try {
      app = await startApp({
        redisUrl: redis.url,
        env: {
          STATSD_HOST: '127.0.0.1',
          STATSD_PORT: String(statsd.port),
          STATSD_PREFIX: 'test.streamer',
          METRICS_INTERVAL_MS: '100',
          ENABLE_KIOSK_INTERACTION_STREAM: 'true',
        },
      });
      expect(app.streamer.operations.statsd).toBeDefined();
      const raw = await sse('/subscribe/raw');
      await sse('/subscribe/eps');
      await sse('/subscribe/eps');
      await sse('/subscribe/details/2665');
      await waitUntil(async () => Number(await pub.pubsub('NUMPAT')) > 0, 5_000, 'PSUBSCRIBE');
      await waitUntil(
        () => last(statsd.lines, 'test.streamer.stream.eps.clients') === 2,
        5_000,
        'eps gauge',
      );

      const published = 50;
      for (let i = 0; i < published; i++) {
        await pub.publish('stream.score_updates', '2665');
        await pub.publish('stream.tweet_updates.2665', `{"id":"${i}"}`);
        // Spread over a dozen eps windows: the clock runs while updates come.
        if (i % 5 === 4) await new Promise((r) => setTimeout(r, 25));
      }
      await raw.waitFor((events) => events.length === published);
      await waitUntil(
        () => sum(statsd.lines, 'test.streamer.stream.messages.in') === 2 * published,
        5_000,
        'messages in',
      );

      const lines = statsd.lines;
      expect(last(lines, 'test.streamer.stream.raw.clients')).toBe(1);
      expect(last(lines, 'test.streamer.stream.eps.clients')).toBe(2);
      expect(last(lines, 'test.streamer.stream.detail.clients')).toBe(1);
      expect(last(lines, 'test.streamer.stream.kiosk.clients')).toBe(0);
      expect(last(lines, 'test.streamer.stream.clients')).toBe(4);
      expect(last(lines, 'test.streamer.stream.detail.routes')).toBe(1);
      for (const l of lines.filter((l) => l.name.endsWith('.clients'))) expect(l.type).toBe('g');
      // Counters are increments of what happened since the previous tick.
      for (const name of [
        'stream.messages.broadcast',
        'stream.bytes.written',
        'stream.messages.in',
      ])
        expect(
          lines.filter((l) => l.name === `test.streamer.${name}`).every((l) => l.type === 'c'),
        ).toBe(true);
      await waitUntil(
        () =>
          sum(statsd.lines, 'test.streamer.stream.messages.broadcast') ===
          app?.streamer.hub.stats.msgsBroadcast,
        5_000,
        'broadcast counter',
      );
      await waitUntil(
        () =>
          sum(statsd.lines, 'test.streamer.stream.bytes.written') ===
          app?.streamer.hub.stats.bytesWritten,
        5_000,
        'bytes counter',
      );
      // The eps clock runs while score updates come; its ticks and missed ticks are counted.
      await waitUntil(
        () => sum(statsd.lines, 'test.streamer.stream.eps.ticks') >= 6,
        5_000,
        'eps clock ticks',
      );
      const status = (await (await fetch(`${app.url}/admin/status.json`)).json()) as {
        eps_ticks: { run: number; missed: number };
      };
      expect(status.eps_ticks.run).toBeGreaterThanOrEqual(6);
      expect(
        statsd.lines
          .filter((l) => l.name.startsWith('test.streamer.stream.eps.ticks'))
          .every((l) => l.type === 'c'),
      ).toBe(true);
      const timings = lines.filter((l) => l.name === 'test.streamer.stream.fanout');
      expect(timings.length).toBeGreaterThan(0);
      expect(timings.every((l) => l.type === 'ms' && l.value >= 0)).toBe(true);
      // No Datadog extensions (tags, container ids) on any line.
      expect(lines.every((l) => l.name.startsWith('test.streamer.'))).toBe(true);
    } finally {
      statsd.socket.close();
    }
  });

  it('counts Redis reconnects and sends a last sample on close', async () => {
    const statsd = await statsdReceiver();
    try {
      app = await startApp({
        redisUrl: redis.url,
        env: {
          STATSD_HOST: '127.0.0.1',
          STATSD_PORT: String(statsd.port),
          METRICS_INTERVAL_MS: '60000',
        },
      });
      await sse('/subscribe/eps');
      await waitUntil(() => app?.streamer.readiness().ready === true);
      await redis.kill();
      await redis.restart();
      pub = redis.client();
      await waitUntil(() => app?.streamer.readiness().ready === true, 10_000, 'reconnect');
      // The interval is a minute: the only sample is the one sent while closing.
      await app.close();
      app = undefined;
      await waitUntil(
        () => sum(statsd.lines, 'rx-streamer.redis.reconnects') === 1,
        5_000,
        'final sample',
      );
      expect(last(statsd.lines, 'rx-streamer.stream.eps.clients')).toBe(0);
    } finally {
      statsd.socket.close();
    }
  });

  it('keeps streaming when the statsd host is dead or unknown', async () => {
    const deadPort = await freePort();
    for (const host of ['127.0.0.1', 'statsd.invalid']) {
      app = await startApp({
        redisUrl: redis.url,
        env: { STATSD_HOST: host, STATSD_PORT: String(deadPort), METRICS_INTERVAL_MS: '20' },
      });
      const raw = await sse('/subscribe/raw');
      await waitUntil(
        async () => Number((await pub.pubsub('NUMSUB', 'stream.score_updates'))[1]) > 0,
      );
      for (let i = 0; i < 20; i++) {
        await pub.publish('stream.score_updates', '1F602');
        await new Promise((r) => setTimeout(r, 10));
      }
      await raw.waitFor((events) => events.length === 20);
      await waitUntil(() => (app?.streamer.operations.statsd?.samplesSent ?? 0) > 20);
      // An unknown host fails every send; the failures stay inside the sink.
      if (host === 'statsd.invalid')
        await waitUntil(() => (app?.streamer.operations.statsd?.errors ?? 0) > 0, 10_000, 'errors');
      await app.close();
      app = undefined;
      for (const s of streams.splice(0)) s.close();
    }
  });

  it('has no statsd client at all without STATSD_HOST', async () => {
    app = await startApp({ redisUrl: redis.url });
    expect(app.streamer.operations.statsd).toBeUndefined();
  });
});
