// Staging and production do not fail open: the real server process refuses to
// start a protocol that would serve anyone (notifications without TOKEN_SECRET,
// site-stream ingest without DATASTREAM_API_KEY, pub/sub without authenticators)
// with one line naming what is missing and the variable that opts out, and
// starts once each is set or named in PUBLIC_PROTOCOLS. Development needs none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '../support/process.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

const base = () => ({
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  REDIS_URL: redis.url,
  NODE_NAME: 'prod-node',
});

/** Starts the server; resolves with the one line it refused with, or undefined once it listens. */
async function refusal(env: Record<string, string>): Promise<string | undefined> {
  try {
    const server = await startServerProcess({ ...base(), ...env }, { timeoutMs: 30_000 });
    await server.stop();
    return undefined;
  } catch (err) {
    return String((err as Error).message)
      .replace(/^server exited \(1\): /, '')
      .trim();
  }
}

describe.each(['production', 'staging'])('NODE_ENV=%s', (env) => {
  it('refuses notifications without TOKEN_SECRET, naming it and PUBLIC_PROTOCOLS', async () => {
    expect(
      await refusal({
        NODE_ENV: env,
        PROTOCOLS: 'notifications',
      }),
    ).toBe(
      `rx-streamer: notifications would serve anyone in ${env}: any user id opens that user’s stream without TOKEN_SECRET; set that, or name it in PUBLIC_PROTOCOLS (PUBLIC_PROTOCOLS=notifications) to serve it without authentication`,
    );
  });

  it('refuses site-stream ingest without DATASTREAM_API_KEY', async () => {
    expect(await refusal({ NODE_ENV: env, PROTOCOLS: 'datastream' })).toMatch(
      /^rx-streamer: datastream would serve anyone in \w+: anyone may enqueue with POST \/datastream\/messages without DATASTREAM_API_KEY; .*PUBLIC_PROTOCOLS=datastream/,
    );
  });

  it('refuses pub/sub without authenticators', async () => {
    expect(await refusal({ NODE_ENV: env, PROTOCOLS: 'pubsub' })).toMatch(
      /^rx-streamer: pubsub would serve anyone in \w+: anyone may subscribe and publish on any channel without authenticators/,
    );
  });
});

it('starts in production once each is set or named in PUBLIC_PROTOCOLS', async () => {
  expect(
    await refusal({
      NODE_ENV: 'production',
      TOKEN_SECRET: 'a-secret-of-at-least-32-characters-long!',
      DATASTREAM_API_KEY: 'ingest-key-0123456789',
      PUBLIC_PROTOCOLS: 'pubsub',
    }),
  ).toBeUndefined();
  expect(
    await refusal({ NODE_ENV: 'production', PUBLIC_PROTOCOLS: 'notifications,pubsub,datastream' }),
  ).toBeUndefined();
});

it('refuses a PUBLIC_PROTOCOLS name that is no protocol', async () => {
  expect(await refusal({ NODE_ENV: 'production', PUBLIC_PROTOCOLS: 'pubsub,chat' })).toBe(
    'rx-streamer: PUBLIC_PROTOCOLS="pubsub,chat" is not valid: "chat" is none of emojitrack, notifications, pubsub, datastream',
  );
});

it('needs none of them in development', async () => {
  expect(await refusal({ NODE_ENV: 'development' })).toBeUndefined();
});
