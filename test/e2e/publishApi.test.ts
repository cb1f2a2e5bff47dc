// POST /api/publish and publish(), against a real Redis and two instances: a
// message published with history reaches every instance's subscribers live,
// with its tag taken off, and is kept at its position for recovery; the API's
// refusals say what is wrong; without PUBLISH_API_KEY it says how to enable it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish } from '../../src/index.js';
import { RedisHistory } from '../../src/sources/RedisHistory.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { isControl, isMessage, openWs } from '../support/ws.js';

const KEY = 'publish-key-0123456789';
let redis: TestRedis;
let apps: TestApp[];
let closed: TestApp;

beforeAll(async () => {
  redis = await startRedis();
  apps = await Promise.all(
    ['pa', 'pb'].map((name) =>
      startApp({ redisUrl: redis.url, env: { NODE_NAME: name, PUBLISH_API_KEY: KEY } }),
    ),
  );
  closed = await startApp({ redisUrl: redis.url, env: { NODE_NAME: 'pc' } });
});

afterAll(async () => {
  await Promise.all([...apps, closed].map((a) => a.close()));
  await redis?.stop();
});

const post = (app: TestApp, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${app.url}/api/publish`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Authorization: `Bearer ${KEY}`,
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('POST /api/publish', () => {
  it('answers the position, and every instance delivers the message live without its tag', async () => {
    const subscribers = await Promise.all(
      apps.map(async (app) => {
        const c = await openWs(`ws://127.0.0.1:${app.port}/pubsub`);
        c.send({ action: 'subscribe', payload: { channel: 'news' } });
        await c.next(isControl('Subscribed to news'));
        return c;
      }),
    );
    const first = await post(apps[0] as TestApp, { channel: 'pubsub:news', data: { n: 1 } });
    expect(first.status).toBe(200);
    const one = (await first.json()) as { channel: string; epoch: string; offset: number };
    expect(one).toEqual({ channel: 'pubsub:news', epoch: expect.any(String) as string, offset: 1 });
    const second = (await (
      await post(apps[1] as TestApp, { channel: 'pubsub:news', data: 'plain' })
    ).json()) as {
      epoch: string;
      offset: number;
    };
    expect(second).toMatchObject({ epoch: one.epoch, offset: 2 });
    for (const c of subscribers) {
      await c.next(isMessage('news', { n: 1 }));
      await c.next(isMessage('news', 'plain'));
      c.close();
    }
    const kept = await new RedisHistory(redis.client(), { size: 100, ttlS: 300 }).recover(
      'pubsub:news',
      { epoch: one.epoch, offset: 0 },
      10,
    );
    expect(kept).toMatchObject({
      recovered: true,
      publications: [
        { offset: 1, payload: '{"n":1}' },
        { offset: 2, payload: 'plain' },
      ],
    });
  });

  it.each([
    ['no key', { Authorization: '' }, 401, 'Authorization: Bearer <PUBLISH_API_KEY> is required'],
    [
      'a wrong key',
      { Authorization: 'Bearer not-the-key-at-all' },
      401,
      'the bearer key is not valid',
    ],
  ])('refuses %s with 401', async (_what, headers, status, message) => {
    const res = await post(apps[0] as TestApp, { channel: 'c', data: 1 }, headers);
    expect(res.status).toBe(status);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="publish"');
    expect(await res.json()).toMatchObject({ message });
  });

  it.each([
    [{ data: 1 }, 'channel must be a non-empty string'],
    [
      { channel: 'a b', data: 1 },
      'channel must be 1 to 256 letters, digits and _ . : @ / { } = + -',
    ],
    [
      { channel: 'pattern*', data: 1 },
      'channel must be 1 to 256 letters, digits and _ . : @ / { } = + -',
    ],
    [{ channel: 'c' }, 'data is missing (any JSON value)'],
    ['[1]', 'the body must be a JSON object {"channel","data"}'],
    ['{nope', 'the body is not valid JSON'],
  ])('answers %j with a 400 naming the field', async (body, message) => {
    const res = await post(apps[0] as TestApp, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'RXS_ERR_BAD_REQUEST', message });
  });

  it('refuses a message over WS_MAX_FRAME_BYTES with 413', async () => {
    const res = await post(apps[0] as TestApp, { channel: 'c', data: 'x'.repeat(1024 * 1024 + 1) });
    expect(res.status).toBe(413);
  });

  it('without PUBLISH_API_KEY, is a 404 that says how to enable it', async () => {
    const res = await post(closed, { channel: 'c', data: 1 });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({
      message:
        '/api/publish is disabled on this server: set PUBLISH_API_KEY (at least 16 characters) to enable it',
    });
  });
});

describe('publish()', () => {
  it("publishes with history from an app's own ioredis client", async () => {
    const c = await openWs(`ws://127.0.0.1:${apps[1]?.port}/pubsub`);
    c.send({ action: 'subscribe', payload: { channel: 'from-node' } });
    await c.next(isControl('Subscribed to from-node'));
    const position = await publish(redis.client(), 'pubsub:from-node', { hello: 'node' });
    expect(position.offset).toBe(1);
    await c.next(isMessage('from-node', { hello: 'node' }));
    c.close();
  });
});
