// Why a notification stream got `failure`, end to end: a real redis-server, the
// server on a real socket with TOKEN_SECRET, a winston logger writing JSON lines
// the test reads. Each cause is one log line with its reason (and never the
// token), and a comment line on the stream; a real EventSource client reads the
// failure exactly as a Sisyphus client always has, the comment unseen.
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import winston from 'winston';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/protocols/notifications/token.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { openEventSource, openNotify, statusData } from '../support/notify.js';
import type { EsClient } from '../support/notify.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/sse.js';

const SECRET = 'a-token-secret-of-32-characters!';

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

let redis: TestRedis;
let pub: Redis;
let app: TestApp;
const logged: string[] = [];
const clients: EsClient[] = [];

/** The JSON lines the server logged, as written. */
const lines = (): LogLine[] => logged.map((l) => JSON.parse(l) as LogLine);
const failureLines = () => lines().filter((l) => l.message === 'notification stream failure');

function streamUrl(user: string, token?: string): string {
  const query = new URLSearchParams({ user });
  if (token !== undefined) query.set('token', token);
  return `${app.url}/?${query.toString()}`;
}

const token = (user: string, options: { ttlSeconds?: number; now?: number } = {}) =>
  mintToken({ user, secret: SECRET, ttlSeconds: options.ttlSeconds ?? 3_600, now: options.now });

/** A token that expired an hour ago, with a signature that is good. */
const expiredToken = (user: string) => token(user, { ttlSeconds: 60, now: Date.now() - 3_600_000 });

beforeAll(async () => {
  redis = await startRedis();
  pub = redis.client();
  const logger = winston.createLogger({
    level: 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _encoding, done) {
            logged.push(...String(chunk).split('\n').filter(Boolean));
            done();
          },
        }),
      }),
    ],
  });
  app = await startApp({ redisUrl: redis.url, env: { TOKEN_SECRET: SECRET }, logger });
  await waitUntil(() => app.streamer.readiness().ready, 10_000, 'the server ready');
  await pub.sadd('user:alice:channels', 'user:alice', 'room:a');
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await waitUntil(() => app.streamer.hub.clientCount('notify') === 0, 5_000, 'every stream closed');
  logged.length = 0;
});

afterAll(async () => {
  await app?.close();
  await redis?.stop();
});

const causes: {
  readonly cause: string;
  readonly user: string;
  readonly token: () => string | undefined;
  readonly reason: string;
  readonly detail?: string;
}[] = [
  { cause: 'a bad user id', user: 'no such/id', token: () => undefined, reason: 'bad-id' },
  { cause: 'an unknown user', user: 'ghost', token: () => token('ghost'), reason: 'unknown-user' },
  { cause: 'no token', user: 'alice', token: () => undefined, reason: 'missing-token' },
  {
    cause: "another user's token",
    user: 'alice',
    token: () => token('bob'),
    reason: 'bad-token',
    detail: 'forged',
  },
  {
    cause: 'a token that is not one',
    user: 'alice',
    token: () => 'not-a-token',
    reason: 'bad-token',
    detail: 'malformed',
  },
  {
    cause: 'an expired token',
    user: 'alice',
    token: () => expiredToken('alice'),
    reason: 'expired-token',
  },
];

describe('why a stream got failure', () => {
  it.each(causes)(
    '$cause: one log line with reason $reason, and the stream says it in a comment',
    async ({ user, token: make, reason, detail }) => {
      const t = make();
      const s = await openNotify(streamUrl(user, t));
      try {
        expect(s.status).toBe(200);
        await s.ended();
        expect(s.statuses()).toEqual(['failure']);
        expect(s.text()).toMatch(
          new RegExp(
            `^id:[^\\n]+\\n: failure reason=${reason}\\ndata:${statusData('failure')}\\n\\n$`,
          ),
        );
      } finally {
        s.close();
      }
      await waitUntil(() => failureLines().length > 0, 5_000, 'the failure log line');
      const failures = failureLines();
      expect(failures).toHaveLength(1);
      expect(failures[0]).toEqual({
        level: 'info',
        message: 'notification stream failure',
        protocol: 'notifications',
        reason,
        ...(detail ? { detail } : {}),
        user,
        clientIp: '127.0.0.1',
        timestamp: expect.any(String) as string,
      });
      // Not the token, nor its signature, anywhere in what was logged.
      if (t) {
        const signature = t.split('.')[1] ?? t;
        for (const line of logged) {
          expect(line).not.toContain(t);
          expect(line).not.toContain(signature);
        }
      }
    },
  );

  it('a user id too long to be one is logged cut short', async () => {
    const user = 'x'.repeat(500);
    const s = await openNotify(streamUrl(user));
    await s.ended();
    s.close();
    await waitUntil(() => failureLines().length > 0, 5_000, 'the failure log line');
    expect(failureLines()[0]).toMatchObject({ reason: 'bad-id', user: `${'x'.repeat(64)}…` });
  });

  it.each(causes)(
    '$cause: an EventSource client reads failure as before, the reason unseen',
    async ({ user, token: make, reason }) => {
      const c = openEventSource(streamUrl(user, make()));
      clients.push(c);
      await c.waitFor((r) => r.length > 0, 'the failure');
      await c.waitFor(() => c.errors() > 0, 'the end of the stream');
      expect(c.received[0]?.data).toBe(statusData('failure'));
      expect(c.received.every((m) => !m.data.includes(reason))).toBe(true);
      await waitUntil(() => failureLines().length > 0, 5_000, 'the failure log line');
      expect(failureLines()[0]).toMatchObject({ reason });
    },
  );

  it('a stream that opens logs no failure, and has no comment line', async () => {
    const s = await openNotify(streamUrl('alice', token('alice')));
    try {
      await s.waitStatus('ok');
      await pub.publish('room:a', 'hello');
      await s.waitMessage('hello');
      expect(s.text()).not.toContain('\n:');
      expect(s.text()).not.toMatch(/^:/);
    } finally {
      s.close();
    }
    expect(failureLines()).toEqual([]);
  });
});
