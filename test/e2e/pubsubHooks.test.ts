// The pub/sub hooks end to end on a real Redis: authenticators (failing closed),
// push traps, openings and closings, receivers, monitors, and slow hooks that
// hold up nothing else.
import { Subject, defer, filter, map, mergeMap, of, throwError } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pubsubProtocol } from '../../src/protocols/pubsub/index.js';
import type { ChannelMessage, PubsubClient } from '../../src/protocols/pubsub/index.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/sse.js';
import { isControl, isMessage, openWs } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

let redis: TestRedis;
let app: TestApp;
const open: WsClient[] = [];
const opened: string[] = [];
const closed: string[] = [];
const monitorFeed = new Subject<ChannelMessage>();
let monitorSubscriptions = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  redis = await startRedis();
  const pubsub = pubsubProtocol({
    authenticators: [
      { channels: 'private.*', check: ({ client }) => client.request.cookies.session === 'ok' },
      { channels: 'denied.*', check: () => false },
      {
        channels: 'throws.*',
        check: () => {
          throw new Error('the session store is down');
        },
      },
      { channels: 'rejects.*', check: () => Promise.reject(new Error('no')) },
      { channels: 'hangs.*', check: () => new Promise<boolean>(() => {}) },
      {
        channels: 'readonly.*',
        check: ({ action }) => action === 'subscribe',
      },
    ],
    defaultAuthenticator: ({ channel }) => channel !== 'forbidden',
    pushTraps: [
      // Rewrites: shouted.
      map((p) => (p.channel === 'shout' ? { ...p, message: String(p.message).toUpperCase() } : p)),
      // Suppresses spam.
      filter((p) => !String(p.message).includes('spam')),
      // Re-routes flagged messages to the moderators.
      map((p) => (String(p.message).startsWith('!') ? { ...p, channel: 'moderators' } : p)),
      // A trap that fails on one message: logged, and the chain goes on.
      mergeMap((p) => (p.message === 'boom' ? throwError(() => new Error('boom')) : of(p))),
    ],
    openings: [
      async (client: PubsubClient) => {
        opened.push(client.id);
        await client.subscribe('welcome');
        client.send({ hello: client.id });
      },
    ],
    closings: [(client: PubsubClient) => void closed.push(client.id)],
    receivers: [
      {
        match: (frame) => (frame as { type?: unknown }).type === 'ping',
        handle: () => ({ type: 'pong' }),
      },
      {
        match: (frame) => (frame as { type?: unknown }).type === 'slow',
        handle: async (frame) => {
          await sleep(1_000);
          return { type: 'slow-done', n: (frame as { n: number }).n };
        },
      },
      {
        match: (frame) => (frame as { type?: unknown }).type === 'fails',
        handle: () => {
          throw new Error('receiver bug');
        },
      },
    ],
    monitors: [
      // Fails on its first subscription, then feeds from the Subject.
      defer(() =>
        monitorSubscriptions++ === 0 ? throwError(() => new Error('monitor down')) : monitorFeed,
      ),
    ],
  });
  app = await startApp({
    redisUrl: redis.url,
    protocols: [pubsub],
    env: { PUBSUB_AUTH_TIMEOUT_MS: '300' },
  });
});

afterAll(async () => {
  for (const c of open) c.close();
  await app.close();
  await redis.stop();
});

async function client(headers: Record<string, string> = {}): Promise<WsClient> {
  const c = await openWs(`ws://127.0.0.1:${app.port}/pubsub`, headers);
  open.push(c);
  // The opening subscribes every client to `welcome`.
  await c.next(isControl('Subscribed to welcome'));
  return c;
}

const subscribe = (c: WsClient, channel: string) =>
  c.send({ action: 'subscribe', payload: { channel } });
const publish = (c: WsClient, channel: string, message: unknown) =>
  c.send({ action: 'publish', payload: { channel, message } });

describe('authenticators', () => {
  it('allow a matching check (a session cookie) and deny without it', async () => {
    const [withCookie, without] = await Promise.all([
      client({ Cookie: 'theme=dark; session=ok' }),
      client(),
    ]);
    subscribe(withCookie, 'private.1');
    await withCookie.next(isControl('Subscribed to private.1'));
    subscribe(without, 'private.1');
    await without.next(isControl('not allowed to subscribe private.1', true));
  });

  it.each([
    ['denies', 'denied.x'],
    ['throws', 'throws.x'],
    ['rejects', 'rejects.x'],
    ['hangs past PUBSUB_AUTH_TIMEOUT_MS', 'hangs.x'],
    ['is the default and denies', 'forbidden'],
  ])(
    'an authenticator that %s refuses the subscribe, and the client stays connected',
    async (_, channel) => {
      const c = await client();
      subscribe(c, channel);
      await c.next(isControl(`not allowed to subscribe ${channel}`, true), 5_000);
      subscribe(c, 'open.after');
      await c.next(isControl('Subscribed to open.after'));
    },
  );

  it('are checked on publish too', async () => {
    const [reader, writer] = await Promise.all([client(), client()]);
    subscribe(reader, 'readonly.news');
    await reader.next(isControl('Subscribed to readonly.news'));
    publish(writer, 'readonly.news', 'not from you');
    await writer.next(isControl('not allowed to publish to readonly.news', true));
    subscribe(reader, 'marker');
    await reader.next(isControl('Subscribed to marker'));
    publish(writer, 'marker', 'm');
    await reader.next(isMessage('marker', 'm'));
    expect(reader.received.filter(isMessage('readonly.news'))).toEqual([]);
  });
});

describe('push traps', () => {
  it('rewrite, suppress and re-route client publishes, and survive a trap that throws', async () => {
    const [sub, pub] = await Promise.all([client(), client()]);
    for (const channel of ['shout', 'chat', 'moderators']) {
      subscribe(sub, channel);
      await sub.next(isControl(`Subscribed to ${channel}`));
    }
    publish(pub, 'shout', 'hello');
    await sub.next(isMessage('shout', 'HELLO'));
    publish(pub, 'chat', 'buy spam now');
    publish(pub, 'chat', 'boom');
    publish(pub, 'chat', '!report user 7');
    publish(pub, 'chat', 'after all that');
    await sub.next(isMessage('chat', 'after all that'));
    expect(sub.received.filter(isMessage('moderators', '!report user 7'))).toHaveLength(1);
    const chat = sub.received
      .filter(isMessage('chat'))
      .map((f) => (f as { message: unknown }).message);
    expect(chat).toEqual(['after all that']);
  });
});

describe('openings, closings and receivers', () => {
  it('runs the openings when a client connects', async () => {
    const c = await client();
    const hello = (await c.next((f) => typeof (f as { hello?: unknown }).hello === 'string')) as {
      hello: string;
    };
    expect(opened).toContain(hello.hello);
  });

  it('runs the closings when a client vanishes without a close frame', async () => {
    const c = await client();
    const { hello } = (await c.next(
      (f) => typeof (f as { hello?: unknown }).hello === 'string',
    )) as {
      hello: string;
    };
    c.ws.terminate();
    await waitUntil(() => closed.includes(hello), 5_000, 'the closing');
  });

  it('hands other frames to the first matching receiver and sends back its answer', async () => {
    const c = await client();
    c.send({ type: 'ping' });
    expect(await c.next((f) => (f as { type?: unknown }).type === 'pong')).toEqual({
      type: 'pong',
    });
    c.send({ type: 'nobody handles this' });
    await c.next(isControl(/needs an "action"/, true));
    c.sendRaw('not even JSON');
    await c.next(isControl(/must be JSON/, true));
    c.send({ type: 'fails' });
    await c.next(isControl(/could not handle/, true));
  });

  it('runs slow hooks concurrently: three 1 s receivers answer in about 1 s, not 3', async () => {
    const c = await client();
    const started = Date.now();
    for (const n of [1, 2, 3]) c.send({ type: 'slow', n });
    const done: number[] = [];
    for (let i = 0; i < 3; i++) {
      const f = (await c.next((x) => (x as { type?: unknown }).type === 'slow-done')) as {
        n: number;
      };
      done.push(f.n);
    }
    expect(done.sort()).toEqual([1, 2, 3]);
    expect(Date.now() - started).toBeLessThan(2_500);
  });
});

it('a monitor feeds channels, and one that fails starts again', async () => {
  const c = await client();
  subscribe(c, 'monitored');
  await c.next(isControl('Subscribed to monitored'));
  await waitUntil(() => monitorSubscriptions >= 2, 5_000, 'the monitor to start again');
  monitorFeed.next({ channel: 'monitored', message: { temperature: 21 } });
  expect(await c.next(isMessage('monitored', { temperature: 21 }))).toBeTruthy();
});
