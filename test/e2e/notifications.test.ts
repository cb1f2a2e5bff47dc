// Per-user notification streams (SPEC §2, Sisyphus) end to end: a real
// redis-server, the server on a real socket, raw HTTP readers where the bytes
// matter and a real EventSource client for what a browser would see.
import { connect } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/protocols/notifications/token.js';
import type { RedisPubSub } from '../../src/sources/RedisPubSub.js';
import { StreamPosition } from '../../src/protocols/notifications/streamPosition.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import {
  NOOP,
  latencyProxy,
  openEventSource,
  openNotify,
  parseEvents,
  statusData,
  statusOf,
} from '../support/notify.js';
import type { EsClient, LatencyProxy, NotifyEvent, NotifyReader } from '../support/notify.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { openSse, waitUntil } from '../support/sse.js';
import { ADMIN_TOKEN, adminStatus } from '../support/status.js';
import type { StatusDocument } from '../support/status.js';

type Status = Omit<StatusDocument, 'connections'> & {
  connections: (StatusDocument['connections'][number] & { user?: string })[];
  metrics: Record<string, number>;
};

const NOOP_MS = 200;

let redis: TestRedis;
let pub: Redis;
let app: TestApp;
const readers: NotifyReader[] = [];
const clients: EsClient[] = [];

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function streamUrl(target: TestApp, user?: string, token?: string): string {
  const params = new URLSearchParams();
  if (user !== undefined) params.set('user', user);
  if (token !== undefined) params.set('token', token);
  const query = params.toString();
  return `${target.url}/${query ? `?${query}` : ''}`;
}

async function stream(
  user: string,
  options: { token?: string; target?: TestApp; onEvent?: (e: NotifyEvent) => void } = {},
): Promise<NotifyReader> {
  const s = await openNotify(
    streamUrl(options.target ?? app, user, options.token),
    options.onEvent ? { onEvent: options.onEvent } : {},
  );
  readers.push(s);
  return s;
}

function eventSource(user: string, target: TestApp = app): EsClient {
  const c = openEventSource(streamUrl(target, user));
  clients.push(c);
  return c;
}

/** A stream that has said ok. */
async function okStream(user: string, target: TestApp = app): Promise<NotifyReader> {
  const s = await stream(user, { target });
  await s.waitStatus('ok');
  return s;
}

async function setChannels(user: string, channels: string[], client: Redis = pub): Promise<void> {
  await client.multi().del(`user:${user}:channels`).sadd(`user:${user}:channels`, channels).exec();
}

async function numsub(channel: string, client: Redis = pub): Promise<number> {
  const reply = (await client.pubsub('NUMSUB', channel)) as [string, number];
  return Number(reply[1]);
}

/** The operator's status document (the streams' users are in the full one only). */
async function status(target: TestApp = app): Promise<Status> {
  return adminStatus<Status>(target.url);
}

const metric = async (name: string, target: TestApp = app) =>
  (await status(target)).metrics[name] ?? Number.NaN;

const waitReady = (target: TestApp) =>
  waitUntil(() => target.streamer.readiness().ready, 10_000, 'the server ready (Redis connected)');

/** The id of an event on a stream in no channel yet (a failure): the empty position. */
const NO_POSITION = new StreamPosition().idFor(undefined);

/** A failure as it is written: its reason in a comment line, then the status EventSource reads. */
const failureText = (reason: string) =>
  `id:${NO_POSITION}\n: failure reason=${reason}\ndata:${statusData('failure')}\n\n`;

/** Every event's id is the stream's position (opaque to clients: a base64url JSON). */
function expectPositioned(events: readonly NotifyEvent[]): void {
  for (const e of events) expect(StreamPosition.parse(e.id ?? ''), e.raw).toBeDefined();
}

/** The body of a chunked response received so far (complete chunks only). */
function dechunk(chunked: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = chunked.indexOf('\r\n', at);
    if (lineEnd < 0) return out;
    const size = parseInt(chunked.slice(at, lineEnd), 16);
    if (!(size > 0) || chunked.length < lineEnd + 2 + size) return out;
    out += chunked.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

/** Closes everything the test opened and waits until the server has let go of it. */
async function closeAll(target: TestApp): Promise<void> {
  for (const s of readers.splice(0)) s.close();
  for (const c of clients.splice(0)) c.close();
  await waitUntil(
    () => target.streamer.hub.clientCount('notify') === 0,
    5_000,
    'every notification stream closed on the server',
  );
}

beforeAll(async () => {
  redis = await startRedis();
  pub = redis.client();
  app = await startApp({ redisUrl: redis.url, env: { NOOP_MS: String(NOOP_MS), ADMIN_TOKEN } });
  // A stream opened before the subscriber connection is up is told `error`.
  await waitReady(app);
});

afterEach(async () => {
  await closeAll(app);
  await pub.flushall();
});

afterAll(async () => {
  await app?.close();
  await redis?.stop();
});

describe('Sisyphus: identification', () => {
  it('a blank user gets failure and the stream ends, with status 200', async () => {
    const s = await stream('');
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await s.ended();
    expect(s.text()).toBe(failureText('bad-id'));
  });

  it('on the wire: one chunk with the failure, then the last chunk', async () => {
    const socket = connect(app.port, '127.0.0.1');
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString('utf8')));
    socket.write('GET /?user= HTTP/1.1\r\nHost: x\r\n\r\n');
    try {
      await waitUntil(() => received.endsWith('\r\n0\r\n\r\n'), 5_000, 'the last chunk');
      const headEnd = received.indexOf('\r\n\r\n');
      const head = received.slice(0, headEnd);
      const body = received.slice(headEnd + 4);
      expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(head).toMatch(/\r\nContent-Type: text\/event-stream; charset=utf-8(\r\n|$)/i);
      expect(head).toMatch(/\r\nTransfer-Encoding: chunked(\r\n|$)/i);
      const event = failureText('bad-id');
      expect(body).toBe(`${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n0\r\n\r\n`);
    } finally {
      socket.destroy();
    }
  });

  it('an HTTP/1.0 client gets events with ids in a close-delimited body', async () => {
    await setChannels('old', ['user:old', 'room:old']);
    const socket = connect(app.port, '127.0.0.1');
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString('utf8')));
    socket.write('GET /?user=old HTTP/1.0\r\nHost: x\r\n\r\n');
    try {
      const body = () => received.slice(received.indexOf('\r\n\r\n') + 4);
      await waitUntil(() => received.includes(statusData('ok')), 5_000, 'ok');
      expect(received).not.toMatch(/transfer-encoding/i);
      expect(body()).toMatch(new RegExp(`^id:p1\\.[\\w-]+\ndata:${statusData('ok')}\n\n`));
      await pub.publish('room:old', 'hello 1.0');
      await waitUntil(() => body().includes('data:hello 1.0\n\n'), 5_000, 'the message');
      const events = parseEvents(body());
      expectPositioned(events);
      expect(events.filter((e) => e.data !== NOOP).map((e) => e.data)).toEqual([
        statusData('ok'),
        'hello 1.0',
      ]);
    } finally {
      socket.destroy();
    }
  });

  it('a stream after a failure on the same keep-alive connection has ids of its own', async () => {
    await setChannels('again', ['user:again', 'room:again']);
    const socket = connect(app.port, '127.0.0.1');
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString('utf8')));
    socket.write('GET /?user= HTTP/1.1\r\nHost: x\r\n\r\n');
    try {
      await waitUntil(() => received.endsWith('\r\n0\r\n\r\n'), 5_000, 'the first stream ended');
      const first = received.length;
      socket.write('GET /?user=again HTTP/1.1\r\nHost: x\r\n\r\n');
      const second = () => dechunk(received.slice(received.indexOf('\r\n\r\n', first) + 4));
      await waitUntil(() => second().includes(statusData('ok')), 5_000, 'ok on the second stream');
      await pub.publish('room:again', 'second stream');
      await waitUntil(() => second().includes('data:second stream\n'), 5_000, 'the message');
      expect(received.slice(first)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      const events = parseEvents(second());
      expectPositioned(events);
      expect(events.filter((e) => e.data !== NOOP).map((e) => e.data)).toEqual([
        statusData('ok'),
        'second stream',
      ]);
    } finally {
      socket.destroy();
    }
  });

  it.each(['a b', 'x'.repeat(65), 'ünï', 'user:1', '../etc'])(
    'a user id like %j gets failure',
    async (user) => {
      const s = await stream(user);
      await s.ended();
      expect(s.statuses()).toEqual(['failure']);
    },
  );

  it('an unknown user (no set) gets failure and the stream ends', async () => {
    const s = await stream('ghost');
    expect(s.status).toBe(200);
    await s.waitStatus('failure');
    await s.ended();
    expect(s.statuses()).toEqual(['failure']);
    expect(s.messages()).toEqual([]);
    expectPositioned(s.events());
  });

  it('an EventSource client of an unknown user reads failure, then the stream ends', async () => {
    const c = eventSource('ghost');
    await c.waitFor((r) => r.some((m) => statusOf(m.data) === 'failure'), 'failure');
    await c.waitFor(() => c.errors() > 0, 'the end of the stream');
    c.close();
  });

  it('a known user gets ok: EventSource sees position ids, the status and a message', async () => {
    await setChannels('known', ['user:known', 'room:k']);
    const c = eventSource('known');
    await c.waitFor((r) => r.some((m) => statusOf(m.data) === 'ok'), 'ok');
    await pub.publish('room:k', 'hello known');
    await c.waitFor((r) => r.some((m) => m.data === 'hello known'), 'the room message');
    // Let a noop or two through, for ids across event kinds.
    await c.waitFor((r) => r.filter((m) => m.data === NOOP).length >= 2, 'two noops', 5_000);
    const data = c.received.map((m) => m.data).filter((d) => d !== NOOP);
    expect(data).toEqual([statusData('ok'), 'hello known']);
    // Every event's id is the stream's position, which EventSource keeps as lastEventId.
    for (const m of c.received) expect(StreamPosition.parse(m.lastEventId)).toBeDefined();
    expect(c.opens()).toBe(1);
    expect(c.errors()).toBe(0);
  });

  it('a user id of 64 characters of every allowed kind is accepted', async () => {
    const user = `Az09_-${'x'.repeat(58)}`;
    expect(user).toHaveLength(64);
    await setChannels(user, [`user:${user}`]);
    await okStream(user);
  });

  it('a known user gets ok once every channel is subscribed in Redis', async () => {
    await setChannels('known2', ['user:known2', 'room:k2a', 'room:k2b']);
    const s = await okStream('known2');
    for (const ch of ['user:known2', 'room:k2a', 'room:k2b']) expect(await numsub(ch)).toBe(1);
    expect(s.statuses()).toEqual(['ok']);
    expect(s.isEnded).toBe(false);
  });
});

describe('Sisyphus: channels', () => {
  it("an authorised channel's message is forwarded as published, with a position id", async () => {
    await setChannels('auth', ['user:auth', 'room:auth']);
    const s = await okStream('auth');
    await pub.publish('room:auth', '{"text":"hi","n":1}');
    await s.waitMessage('{"text":"hi","n":1}');
    const event = s.events().find((e) => e.data === '{"text":"hi","n":1}');
    expect(event?.raw).toMatch(/^id:p1\.[\w-]+\ndata:\{"text":"hi","n":1\}$/);
    expectPositioned(s.events());
  });

  it("an unauthorised channel's message is not forwarded: the next event is a noop", async () => {
    await setChannels('nosy', ['user:nosy', 'room:public']);
    // Someone else's room, so that the server itself is subscribed to it.
    await setChannels('insider', ['user:insider', 'room:secret']);
    const nosy = await okStream('nosy');
    const insider = await okStream('insider');
    const seen = nosy.events().length;
    expect(await pub.publish('room:secret', 'secret-1')).toBe(1);
    expect(await pub.publish('room:nobody', 'nobody-1')).toBe(0);
    await insider.waitMessage('secret-1');
    // Two noops: the first may have been on its way already.
    await nosy.waitFor(
      (events) => events.slice(seen).filter((e) => e.data === NOOP).length >= 2,
      'two noops after the publish',
    );
    expect(nosy.events().slice(seen)[0]?.data).toBe(NOOP);
    expect(nosy.messages()).toEqual([]);
    expect(nosy.statuses()).toEqual(['ok']);
  });

  it('a refresh adds one room and removes another; the room that stayed misses nothing', async () => {
    await setChannels('mover', ['user:mover', 'room:stay', 'room:gone']);
    const s = await okStream('mover');

    // room:stay gets a message every few ms from before the refresh until after it.
    let stop = false;
    let sent = 0;
    const steady = (async () => {
      while (!stop) {
        await pub.publish('room:stay', `stay-${sent++}`);
        await new Promise((r) => setTimeout(r, 3));
      }
    })();
    try {
      await s.waitFor((e) => e.some((x) => x.data === 'stay-5'), 'room:stay flowing');
      await pub
        .multi()
        .sadd('user:mover:channels', 'room:new')
        .srem('user:mover:channels', 'room:gone')
        .exec();
      await pub.publish('user:mover', '{"type":"channels"}');
      await s.waitMessage('{"type":"channels"}');

      // The added room: once one message gets through, every later one does.
      let n = 0;
      await waitUntil(
        async () => {
          await pub.publish('room:new', `new-${n++}`);
          return s.messages().some((m) => m.startsWith('new-'));
        },
        5_000,
        'a message on the added room',
      );
      const firstNew = Number(
        s
          .messages()
          .find((m) => m.startsWith('new-'))
          ?.slice(4),
      );
      for (let i = 0; i < 5; i++) await pub.publish('room:new', `new-${n++}`);
      await s.waitMessage(`new-${n - 1}`);
      expect(s.messages().filter((m) => m.startsWith('new-'))).toEqual(
        range(n - firstNew).map((i) => `new-${firstNew + i}`),
      );

      // The removed room: nothing, and its Redis subscription goes.
      await pub.publish('room:gone', 'gone-after');
      await pub.publish('room:stay', 'marker');
      await s.waitMessage('marker');
      const afterMarker = s.events().length;
      await s.waitFor(
        (e) => e.length > afterMarker && e.slice(afterMarker).some((x) => x.data === NOOP),
        'a noop after the marker',
      );
      expect(s.messages()).not.toContain('gone-after');
      await waitUntil(
        async () => (await numsub('room:gone')) === 0,
        5_000,
        'UNSUBSCRIBE room:gone',
      );
      expect(await numsub('room:new')).toBe(1);
    } finally {
      stop = true;
      await steady;
    }
    await s.waitMessage(`stay-${sent - 1}`);
    const stay = s.messages().filter((m) => m.startsWith('stay-'));
    expect(stay).toEqual(range(sent).map((i) => `stay-${i}`));
    expect(s.statuses()).toEqual(['ok']);
    expectPositioned(s.events());
    expect(await metric('notify.refreshes')).toBeGreaterThanOrEqual(1);
  });

  it('a refresh with a stale message changes nothing and keeps the stream', async () => {
    await setChannels('same', ['user:same', 'room:same']);
    const s = await okStream('same');
    const before = await metric('notify.refreshes');
    await pub.publish('user:same', 'nothing changed');
    await s.waitMessage('nothing changed');
    await waitUntil(
      async () => (await metric('notify.refreshes')) === before + 1,
      5_000,
      'the refresh',
    );
    await pub.publish('room:same', 'still here');
    await s.waitMessage('still here');
    expect(s.statuses()).toEqual(['ok']);
  });
});

/**
 * Opens `rounds` streams, `batch` at a time, and PUBLISHes to the last of each
 * one's channels the moment its ok is read; returns the messages that never came.
 * Users come back every other batch, so their channels are reopened while still
 * in their grace period, while being unsubscribed, or afresh.
 */
async function connectRace(target: TestApp, rounds: number, batch: number): Promise<string[]> {
  const USERS = 2 * batch;
  const sets = pub.multi();
  for (const k of range(USERS)) {
    sets.sadd(`user:race${k}:channels`, [
      `user:race${k}`,
      ...range(5).map((n) => `room:race${k}:${n + 1}`),
    ]);
  }
  await sets.exec();
  const lost: string[] = [];
  for (let b = 0; b < rounds && lost.length === 0; b += batch) {
    await Promise.all(
      range(batch).map(async (j) => {
        const i = b + j;
        const k = i % USERS;
        const payload = `race-${i}`;
        let published: Promise<number> | undefined;
        const s = await stream(`race${k}`, {
          target,
          onEvent: (e) => {
            if (!published && statusOf(e.data) === 'ok') {
              published = pub.publish(`room:race${k}:5`, payload);
            }
          },
        });
        try {
          await s.waitStatus('ok');
          const receivers = await published;
          await s.waitMessage(payload, 3_000).catch((err: unknown) => {
            lost.push(
              `${payload} (user race${k}, PUBLISH reached ${receivers} subscriber(s)): ${String(err)}`,
            );
          });
        } finally {
          s.close();
        }
      }),
    );
  }
  return lost;
}

describe('the connect race', () => {
  it('a message published the moment ok is read always arrives (300 connects)', async () => {
    expect(await connectRace(app, 300, 10)).toEqual([]);
  }, 90_000);

  // On a local socket a SUBSCRIBE reaches Redis long before a client can read ok and
  // PUBLISH, so the test above passes even for a server that says ok too early. A slow
  // link from the streamer to Redis opens that window wide.
  describe('over a slow link to Redis (25 ms upstream)', () => {
    let proxy: LatencyProxy;
    let slow: TestApp;

    beforeAll(async () => {
      proxy = await latencyProxy(redis.port, 25);
      slow = await startApp({ redisUrl: proxy.url, env: { NOOP_MS: String(NOOP_MS) } });
      await waitReady(slow);
    });

    afterEach(() => closeAll(slow));

    afterAll(async () => {
      await slow?.close();
      await proxy?.close();
    });

    it('a message published the moment ok is read always arrives (100 connects)', async () => {
      expect(await connectRace(slow, 100, 10)).toEqual([]);
    }, 90_000);

    it.each([0, 10, 30, 60, 120])(
      'a client gone %i ms after connecting (before or after ok) leaves nothing behind',
      async (delayMs) => {
        const user = `gone${delayMs}`;
        await setChannels(user, [`user:${user}`, `room:${user}:1`, `room:${user}:2`]);
        const s = await stream(user, { target: slow });
        await new Promise((r) => setTimeout(r, delayMs));
        s.close();
        await closeAll(slow);
        const source = slow.source as RedisPubSub;
        await waitUntil(
          async () =>
            (await numsub(`room:${user}:1`)) === 0 &&
            (await numsub(`room:${user}:2`)) === 0 &&
            (await numsub(`user:${user}`)) === 0,
          5_000,
          `no Redis subscription left for ${user}`,
        );
        await waitUntil(
          () => {
            const sizes = source.cacheSizes();
            return sizes.listeners === 0 && sizes.shared === 0 && sizes.waiting === 0;
          },
          5_000,
          `the source's caches empty (${JSON.stringify(source.cacheSizes())})`,
        );
        expect(slow.streamer.hub.topicCount('notify_channels')).toBe(0);
      },
    );
  });
});

describe('one Redis subscription for many users', () => {
  it('200 users of room:1: one subscription, one message for all, none after they leave', async () => {
    const N = 200;
    const batch = pub.multi();
    for (const i of range(N)) batch.sadd(`user:fan${i}:channels`, [`user:fan${i}`, 'room:1']);
    await batch.exec();
    const streams = await Promise.all(range(N).map((i) => stream(`fan${i}`)));
    await Promise.all(streams.map((s) => s.waitStatus('ok', 15_000)));
    expect(await numsub('room:1')).toBe(1);
    expect(await metric('notify.users')).toBe(N);
    expect(await metric('notify.channels')).toBe(N + 1);

    const forwarded = await metric('notify.messages.forwarded');
    expect(await pub.publish('room:1', 'to everyone')).toBe(1);
    await Promise.all(streams.map((s) => s.waitMessage('to everyone', 10_000)));
    expect(await metric('notify.messages.forwarded')).toBe(forwarded + 1);

    for (const s of streams) s.close();
    await waitUntil(async () => (await numsub('room:1')) === 0, 5_000, 'UNSUBSCRIBE room:1');
    await waitUntil(async () => (await numsub('user:fan0')) === 0, 5_000, 'UNSUBSCRIBE user:fan0');
    await waitUntil(
      async () => (await metric('notify.channels')) === 0 && (await metric('notify.users')) === 0,
      5_000,
      'the gauges back to 0',
    );
  }, 60_000);
});

describe('tokens', () => {
  const SECRET = 'a-test-secret-of-32-characters!!';
  let secured: TestApp;

  beforeAll(async () => {
    secured = await startApp({
      redisUrl: redis.url,
      env: { NOOP_MS: String(NOOP_MS), TOKEN_SECRET: SECRET, ADMIN_TOKEN },
    });
    await waitReady(secured);
  });

  afterEach(() => closeAll(secured));

  afterAll(async () => {
    await secured?.close();
  });

  const valid = (user: string) => mintToken({ user, ttlSeconds: 3_600, secret: SECRET });

  const changedSignature = () => {
    const [expiry, signature = ''] = valid('alice').split('.');
    return `${expiry}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
  };
  const refused: [string, () => string | undefined, string][] = [
    ['missing', () => undefined, 'missing-token'],
    [
      'forged with another secret',
      () =>
        mintToken({ user: 'alice', ttlSeconds: 3_600, secret: 'another-secret-of-32-characters!' }),
      'bad-token',
    ],
    ['forged (one signature character changed)', changedSignature, 'bad-token'],
    ["another user's", () => valid('bob'), 'bad-token'],
    [
      'expired',
      () =>
        mintToken({ user: 'alice', ttlSeconds: 60, secret: SECRET, now: Date.now() - 3_600_000 }),
      'expired-token',
    ],
    ['malformed', () => 'not-a-token', 'bad-token'],
    ['malformed (leading zero)', () => `0${valid('alice')}`, 'bad-token'],
    ['empty', () => '', 'missing-token'],
  ];

  it.each(refused)(
    'a token that is %s gets failure, says why, and the stream ends',
    async (_kind, token, reason) => {
      await setChannels('alice', ['user:alice', 'room:a']);
      const t = token();
      const s = await stream('alice', {
        target: secured,
        ...(t === undefined ? {} : { token: t }),
      });
      expect(s.status).toBe(200);
      await s.ended();
      expect(s.text()).toBe(failureText(reason));
    },
  );

  it('a valid token gets ok and messages; status.json never shows it', async () => {
    await setChannels('alice', ['user:alice', 'room:a']);
    const token = valid('alice');
    const s = await stream('alice', { target: secured, token });
    await s.waitStatus('ok');
    await pub.publish('room:a', 'for alice');
    await s.waitMessage('for alice');

    const res = await fetch(`${secured.url}/admin/status.json`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const text = await res.text();
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split('.')[1] as string);
    const doc = JSON.parse(text) as Status;
    const mine = doc.connections.filter((c) => c.namespace === '/users');
    expect(mine).toEqual([
      expect.objectContaining({ request_path: '/', namespace: '/users', user: 'alice' }),
    ]);
    // Anyone else sees the stream, and no user id.
    const masked = await (await fetch(`${secured.url}/admin/status.json`)).text();
    expect(masked).toContain('"namespace":"/users"');
    expect(masked).not.toContain('alice');
    const metrics = await (await fetch(`${secured.url}/metrics`)).text();
    expect(metrics).not.toContain(token);
  });

  it('a stream ends when its token expires, and the same token then gets failure', async () => {
    await setChannels('alice', ['user:alice', 'room:a']);
    // Expiries are whole seconds: this one is one to two seconds away.
    const token = mintToken({ user: 'alice', ttlSeconds: 2, secret: SECRET });
    const s = await stream('alice', { target: secured, token });
    await s.waitStatus('ok');
    await s.ended();
    const again = await stream('alice', { target: secured, token });
    await again.ended();
    expect(again.text()).toBe(failureText('expired-token'));
  });

  it('a refused stream counts as a failure, not a user', async () => {
    const before = await metric('notify.status.failure', secured);
    const s = await stream('alice', { target: secured, token: 'nope' });
    await s.ended();
    expect(await metric('notify.status.failure', secured)).toBe(before + 1);
    await waitUntil(async () => (await metric('notify.users', secured)) === 0, 5_000, 'no users');
  });
});

describe('the set becoming empty', () => {
  it('SREM of the last channels, then a message on the user channel: disconnected, and the end', async () => {
    await setChannels('leaver', ['user:leaver', 'room:l1', 'room:l2']);
    const s = await okStream('leaver');
    const before = await metric('notify.status.disconnected');
    await pub.srem('user:leaver:channels', 'user:leaver', 'room:l1', 'room:l2');
    await pub.publish('user:leaver', '{"type":"channels"}');
    await s.ended();
    expect(s.statuses()).toEqual(['ok', 'disconnected']);
    // The message that emptied the set comes before the status that ends the stream.
    expect(
      s
        .events()
        .filter((e) => e.data !== NOOP)
        .map((e) => e.data),
    ).toEqual([statusData('ok'), '{"type":"channels"}', statusData('disconnected')]);
    const last = s.events().at(-1);
    expect(last?.data).toBe(statusData('disconnected'));
    expect(last?.retry).toBeUndefined();
    expectPositioned(s.events());
    expect(await metric('notify.status.disconnected')).toBe(before + 1);
    await waitUntil(async () => (await numsub('room:l1')) === 0, 5_000, 'UNSUBSCRIBE room:l1');
  });
});

describe('multi-line payloads', () => {
  const payloads = [
    'two\nlines',
    'crlf\r\nline',
    'trailing newline\n',
    ' leading space',
    ' a\r\n b\n\nc',
    '{"json":"one line"}',
    '🇺🇸 "quoted" \\u2665 ünï',
  ];
  // SSE has no way to tell \r\n from \n: a client sees \n.
  const asReceived = payloads.map((p) => p.replace(/\r\n/g, '\n'));
  const onTheWire = [
    'data:two\ndata:lines',
    'data:crlf\ndata:line',
    'data:trailing newline\ndata:',
    'data:  leading space',
    'data:  a\ndata:  b\ndata:\ndata:c',
    'data:{"json":"one line"}',
    'data:🇺🇸 "quoted" \\u2665 ünï',
  ];

  it('arrive exactly through EventSource, and one data line per payload line on the wire', async () => {
    await setChannels('lines', ['user:lines', 'room:lines']);
    const c = eventSource('lines');
    const raw = await okStream('lines');
    await c.waitFor((r) => r.some((m) => statusOf(m.data) === 'ok'), 'ok');
    for (const p of payloads) await pub.publish('room:lines', p);
    await c.waitFor(
      (r) => r.filter((m) => m.data !== NOOP).length === payloads.length + 1,
      'every payload',
    );
    expect(c.received.map((m) => m.data).filter((d) => d !== NOOP && !statusOf(d))).toEqual(
      asReceived,
    );

    await raw.waitFor(
      (e) => e.filter((x) => x.data !== NOOP).length === payloads.length + 1,
      'every payload',
    );
    const blocks = raw.events().filter((e) => e.data !== NOOP && !statusOf(e.data));
    expect(blocks.map((b) => b.raw.replace(/^id:p1\.[\w-]+\n/, ''))).toEqual(onTheWire);
    expect(blocks.map((b) => b.data)).toEqual(asReceived);
    expect(raw.text()).not.toContain('\r');
    expectPositioned(raw.events());
  });
});

describe('HEAD and the live page', () => {
  it('HEAD /?user=x answers 200 with the SSE headers and ends at once', async () => {
    const s = await openSse(`${app.url}/?user=x`, { method: 'HEAD' });
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).toBe('no-cache');
    expect(s.headers['x-accel-buffering']).toBe('no');
    expect(s.headers['access-control-allow-origin']).toBe('*');
    await Promise.race([
      s.ended(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('HEAD did not end within 5 s')), 5_000),
      ),
    ]);
    expect(s.text()).toBe('');
    expect(app.streamer.hub.clientCount('notify')).toBe(0);
  });

  it.each(['/', '/?foo=bar', '/?users=1'])(
    'GET %s without user serves the live page',
    async (path) => {
      const res = await fetch(`${app.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toMatch(/^<!doctype html>/i);
    },
  );

  it('GET streams carry the same SSE headers as the other streams, and no preamble', async () => {
    await setChannels('hdr', ['user:hdr']);
    const s = await stream('hdr');
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).toBe('no-cache');
    expect(s.headers['connection']).toBe('keep-alive');
    expect(s.headers['access-control-allow-origin']).toBe('*');
    expect(s.headers['x-accel-buffering']).toBe('no');
    await s.waitStatus('ok');
    expect(s.text()).toMatch(/^id:p1\.[\w-]+\n/);
  });
});

describe('NOTIFY_PATH', () => {
  it('serves the streams at /notify, and / is the live page for everyone', async () => {
    const other = await startApp({
      redisUrl: redis.url,
      env: { NOOP_MS: String(NOOP_MS), NOTIFY_PATH: '/notify' },
    });
    try {
      await waitReady(other);
      await setChannels('pathy', ['user:pathy', 'room:pathy']);
      const s = await openNotify(`${other.url}/notify?user=pathy`);
      readers.push(s);
      await s.waitStatus('ok');
      await pub.publish('room:pathy', 'at /notify');
      await s.waitMessage('at /notify');
      const root = await fetch(`${other.url}/?user=pathy`);
      expect(root.status).toBe(200);
      expect(root.headers.get('content-type')).toMatch(/^text\/html/);
      await root.text();
      await closeAll(other);
    } finally {
      await other.close();
    }
  });
});

describe('status and metrics', () => {
  it('status.json lists the streams as /users with their user; the gauges and counters follow them', async () => {
    await setChannels('m1', ['user:m1', 'room:m']);
    await setChannels('m2', ['user:m2', 'room:m']);
    const okBefore = await metric('notify.status.ok');
    const a = await okStream('m1');
    const b = await okStream('m2');

    const doc = await status();
    const mine = doc.connections.filter((c) => c.namespace === '/users');
    expect(mine.map((c) => c.user).sort()).toEqual(['m1', 'm2']);
    for (const c of mine) expect(c).toMatchObject({ request_path: '/', client_ip: '127.0.0.1' });
    expect(doc.metrics['notify.users']).toBe(2);
    expect(doc.metrics['notify.channels']).toBe(3); // user:m1, user:m2, room:m
    expect(doc.metrics['notify.status.ok']).toBe(okBefore + 2);

    const forwarded = doc.metrics['notify.messages.forwarded'] ?? Number.NaN;
    await pub.publish('room:m', 'to both');
    await a.waitMessage('to both');
    await b.waitMessage('to both');
    expect(await metric('notify.messages.forwarded')).toBe(forwarded + 1);

    const prom = await (await fetch(`${app.url}/metrics`)).text();
    expect(prom).toMatch(/^rx_streamer_notify_users 2$/m);
    expect(prom).toMatch(/^rx_streamer_notify_channels 3$/m);
    expect(prom).toMatch(
      new RegExp(`^rx_streamer_notify_messages_forwarded_total ${forwarded + 1}$`, 'm'),
    );
    expect(prom).toMatch(/^rx_streamer_notify_status_ok_total \d+$/m);
    expect(prom).toMatch(/^rx_streamer_notify_refreshes_total /m);

    a.close();
    await waitUntil(async () => (await metric('notify.users')) === 1, 5_000, 'notify.users 1');
    expect(await metric('notify.channels')).toBe(2);
    expect(
      (await status()).connections.filter((c) => c.namespace === '/users').map((c) => c.user),
    ).toEqual(['m2']);
  });

  it('failure statuses are counted', async () => {
    const before = await metric('notify.status.failure');
    const s = await stream('nobody-here');
    await s.ended();
    const t = await stream('bad id');
    await t.ended();
    expect(await metric('notify.status.failure')).toBe(before + 2);
  });
});

describe('Redis going away', () => {
  const TIMEOUT_MS = 1_000;
  // Time allowed on top of NOTIFY_REDIS_TIMEOUT_MS on a loaded machine; a hang waits far longer.
  const SLACK_MS = 4_000;
  let own: TestRedis;
  let ownApp: TestApp;
  let ownPub: Redis;

  beforeAll(async () => {
    own = await startRedis();
    ownPub = own.client();
    ownApp = await startApp({
      redisUrl: own.url,
      env: { NOOP_MS: String(NOOP_MS), NOTIFY_REDIS_TIMEOUT_MS: String(TIMEOUT_MS) },
    });
    await waitReady(ownApp);
  });

  afterEach(() => closeAll(ownApp));

  afterAll(async () => {
    await ownApp?.close();
    await own?.stop();
  });

  const expectErrorEvent = (s: NotifyReader) => {
    const error = s.events().find((e) => statusOf(e.data) === 'error');
    expect(error?.raw).toMatch(
      /^id:p1\.[\w-]+\nretry:\d+\ndata:<message><status>error<\/status><\/message>$/,
    );
    const retry = Number(error?.retry);
    expect(retry).toBeGreaterThanOrEqual(1_000);
    expect(retry).toBeLessThanOrEqual(5_000);
  };

  it('a set read that takes longer than NOTIFY_REDIS_TIMEOUT_MS is an error with a retry', async () => {
    await setChannels('slow', ['user:slow', 'room:slow'], ownPub);
    const before = await metric('notify.status.error', ownApp);
    // Redis holds every command for a while: the subscriber connection stays up.
    await ownPub.call('CLIENT', 'PAUSE', String(TIMEOUT_MS + 1_500), 'ALL');
    const s = await stream('slow', { target: ownApp });
    await s.waitStatus('error', TIMEOUT_MS + SLACK_MS);
    await s.ended();
    expectErrorEvent(s);
    expect(await metric('notify.status.error', ownApp)).toBe(before + 1);
    // Once Redis answers again, so do the streams.
    await waitUntil(async () => (await ownPub.ping()) === 'PONG', 10_000, 'Redis unpaused');
    const again = await okStream('slow', ownApp);
    await ownPub.publish('room:slow', 'answering again');
    await again.waitMessage('answering again');
  });

  it('a refresh read that takes longer than NOTIFY_REDIS_TIMEOUT_MS is an error, and the end', async () => {
    await setChannels('stalled', ['user:stalled', 'room:stalled'], ownPub);
    const s = await okStream('stalled', ownApp);
    // Redis runs the PUBLISH, then holds every later command, the re-read among them.
    await ownPub
      .multi()
      .publish('user:stalled', 'read again')
      .call('CLIENT', 'PAUSE', String(TIMEOUT_MS + 1_500), 'ALL')
      .exec();
    await s.waitFor(
      (e) => e.some((x) => statusOf(x.data) === 'error'),
      'error after the refresh timed out',
      TIMEOUT_MS + SLACK_MS,
    );
    await s.ended();
    expect(s.statuses()).toEqual(['ok', 'error']);
    expectErrorEvent(s);
    await waitUntil(async () => (await ownPub.ping()) === 'PONG', 10_000, 'Redis unpaused');
  });

  it('a Redis restart: error and the end for open streams, error while down, ok after', async () => {
    await setChannels('phoenix', ['user:phoenix', 'room:ashes'], ownPub);
    const open = await okStream('phoenix', ownApp);
    const es = eventSource('phoenix', ownApp);
    await es.waitFor((r) => r.some((m) => statusOf(m.data) === 'ok'), 'ok');

    await own.kill(true);
    await open.waitFor(
      (e) => e.some((x) => statusOf(x.data) === 'error'),
      'error after Redis was killed',
      TIMEOUT_MS + SLACK_MS,
    );
    await open.ended();
    expect(open.statuses()).toEqual(['ok', 'error']);
    expectErrorEvent(open);

    // While Redis is down, a new stream is told at once rather than left waiting.
    const down = await stream('phoenix', { target: ownApp });
    await down.waitStatus('error', TIMEOUT_MS + SLACK_MS);
    await down.ended();
    expectErrorEvent(down);

    await own.restart();
    // Nothing persisted: the app server would write the sets again.
    const fresh = own.client();
    await setChannels('phoenix', ['user:phoenix', 'room:ashes'], fresh);
    await waitReady(ownApp);
    const after = await okStream('phoenix', ownApp);
    expect(await fresh.publish('room:ashes', 'rebirth')).toBe(1);
    await after.waitMessage('rebirth');

    // A real EventSource client comes back by itself (after its retry: 1–5 s) and gets ok.
    await es.waitFor(
      (r) => r.filter((m) => statusOf(m.data) === 'ok').length >= 2,
      'ok again after reconnecting',
      20_000,
    );
    await waitUntil(async () => (await numsub('room:ashes', fresh)) === 1, 5_000, 'room:ashes');
    await fresh.publish('room:ashes', 'to the browser');
    await es.waitFor(
      (r) => r.some((m) => m.data === 'to the browser'),
      'the message after reconnecting',
    );
    const statuses = es.received.flatMap((m) => statusOf(m.data) ?? []);
    expect(statuses[0]).toBe('ok');
    expect(statuses.at(-1)).toBe('ok');
    expect(statuses).toContain('error');
  }, 60_000);
});
