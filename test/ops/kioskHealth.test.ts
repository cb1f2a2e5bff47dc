// Kiosk interaction events end to end through a real redis-server, and the
// health endpoints following Redis going away and coming back.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { getJson, openSse, waitUntil } from '../support/sse.js';
import type { RawSse } from '../support/sse.js';

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

async function sse(path: string, method = 'GET'): Promise<RawSse> {
  const s = await openSse(`${app?.url}${path}`, { method });
  streams.push(s);
  return s;
}
const numpat = async () => Number(await pub.pubsub('NUMPAT'));

describe('/subscribe/kiosk_interaction', () => {
  it('forwards stream.interaction.* as event:stream.interaction.request, payload untouched', async () => {
    app = await startApp({
      redisUrl: redis.url,
      env: { ENABLE_KIOSK_INTERACTION_STREAM: 'true' },
    });
    const kiosk = await sse('/subscribe/kiosk_interaction');
    expect(kiosk.status).toBe(200);
    expect(kiosk.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await waitUntil(async () => (await numpat()) > 0, 5_000, 'PSUBSCRIBE stream.interaction.*');
    expect(await pub.pubsub('NUMPAT')).toBe(1);

    const request = JSON.stringify({
      char: '1F602',
      requester: 'mroth',
      requester_profile_url: 'https://example.com/mroth',
    });
    await pub.publish('stream.interaction.request', request);
    await pub.publish('stream.score_updates', '1F602');
    await pub.publish('stream.interaction.other', '{"char":"2665"}');
    await kiosk.waitFor((events) => events.length === 2);
    expect(kiosk.text()).toBe(
      `:ok\n\nevent:stream.interaction.request\ndata:${request}\n\n` +
        'event:stream.interaction.request\ndata:{"char":"2665"}\n\n',
    );
  });

  it('answers HEAD with the stream headers and ends', async () => {
    app = await startApp({
      redisUrl: redis.url,
      env: { ENABLE_KIOSK_INTERACTION_STREAM: 'true' },
    });
    const head = await sse('/subscribe/kiosk_interaction', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await head.ended();
  });

  it('is a 404 JSON error naming the variable when disabled (the default)', async () => {
    app = await startApp({ redisUrl: redis.url });
    const res = await getJson<{ code: string; message: string }>(
      `${app.url}/subscribe/kiosk_interaction`,
    );
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('RXS_ERR_DISABLED');
    expect(res.body.message).toContain('ENABLE_KIOSK_INTERACTION_STREAM');
  });
});

describe('/healthz and /readyz', () => {
  it('follows Redis: ready, not ready while it is gone, ready again after', async () => {
    app = await startApp({ redisUrl: redis.url });
    await waitUntil(async () => (await fetch(`${app?.url}/readyz`)).status === 200);
    expect((await getJson(`${app.url}/readyz`)).body).toEqual({ status: 'OK' });
    expect((await getJson(`${app.url}/healthz`)).body).toEqual({ status: 'OK' });

    await redis.kill();
    await waitUntil(async () => (await fetch(`${app?.url}/readyz`)).status === 503, 10_000);
    const down = await getJson<{ status: string; reason: string }>(`${app.url}/readyz`);
    expect(down.body.status).toBe('UNAVAILABLE');
    expect(down.body.reason).toMatch(/^redis (reconnecting|connecting|closed)$/);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);

    await redis.restart();
    await waitUntil(async () => (await fetch(`${app?.url}/readyz`)).status === 200, 10_000);
    pub = redis.client();
  });

  it('stops being ready as soon as shutdown begins, and answers late streams with the retry line', async () => {
    app = await startApp({ redisUrl: redis.url, env: { SHUTDOWN_RETRY_MS: '1234' } });
    const eps = await sse('/subscribe/eps');
    await waitUntil(() => app?.streamer.readiness().ready === true);
    const closing = app.streamer.close();
    expect(app.streamer.readiness()).toEqual({ ready: false, reason: 'shutting down' });
    await eps.ended();
    expect(eps.text()).toBe(':ok\n\nretry:1234\n\n');
    await closing;
  });
});
