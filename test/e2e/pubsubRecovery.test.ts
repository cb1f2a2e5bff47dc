// Recovery on reconnect for pub/sub, against a real Redis and two instances: a
// client that drops and comes back to the other instance with its position
// gets exactly what it missed, in order, then live messages; a position that
// cannot be resumed from is said to be so, with nothing replayed; publishes
// racing a recovery make no duplicate and no gap; a gap on live traffic is told.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyKeys } from '../../src/sources/channelHistory.js';
import { startApp } from '../support/app.js';
import { publishApi } from '../support/publish.js';
import type { TestApp } from '../support/app.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/sse.js';
import { isControl, isMessage, openWs, subscribe } from '../support/ws.js';
import type { ChannelFrame } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

const KEY = 'publish-key-0123456789';
const RECOVERY_MAX = 20;
const HISTORY_SIZE = 50;
let redis: TestRedis;
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  redis = await startRedis();
  const env = {
    PUBLISH_API_KEY: KEY,
    RECOVERY_MAX: String(RECOVERY_MAX),
    HISTORY_SIZE: String(HISTORY_SIZE),
  };
  a = await startApp({ redisUrl: redis.url, env: { NODE_NAME: 'ra', ...env } });
  b = await startApp({ redisUrl: redis.url, env: { NODE_NAME: 'rb', ...env } });
});

afterAll(async () => {
  await Promise.all([a, b].map((app) => app?.close()));
  await redis?.stop();
});

const client = (app: TestApp) => openWs(`ws://127.0.0.1:${app.port}/pubsub`);

const publish = (app: TestApp, channel: string, data: unknown) =>
  publishApi(app.url, KEY, `pubsub:${channel}`, data);

/** The channel messages a client got after its nth frame, as [offset, message]. */
const messagesOf = (c: WsClient, channel: string, from = 0) =>
  (c.received.slice(from).filter(isMessage(channel)) as ChannelFrame[]).map((f) => [
    f.offset,
    f.message,
  ]);

describe('pub/sub recovery', () => {
  it('acknowledges a subscribe with the channel’s epoch and top, and numbers its messages', async () => {
    const c = await client(a);
    const ack = await subscribe(c, 'numbered');
    expect(ack).toEqual({
      controlMessage: true,
      content: 'Subscribed to numbered',
      channel: 'numbered',
      epoch: expect.any(String) as string,
      offset: 0,
    });
    await publish(b, 'numbered', 'one');
    expect(await c.next(isMessage('numbered'))).toEqual({
      channel: 'numbered',
      message: 'one',
      offset: 1,
    });
    // An outside PUBLISH is delivered live, with no offset.
    await redis.client().publish('pubsub:numbered', '"bare"');
    expect(await c.next(isMessage('numbered', 'bare'))).toEqual({
      channel: 'numbered',
      message: 'bare',
    });
    c.close();
  });

  it('gives a client back on the other instance exactly the 5 it missed, in order, then live ones', async () => {
    const first = await client(a);
    const ack = await subscribe(first, 'room');
    const publisher = await client(a);
    publisher.send({ action: 'publish', payload: { channel: 'room', message: 'before' } });
    const seen = (await first.next(isMessage('room', 'before'))) as ChannelFrame;
    first.close();
    await first.closed();

    // Three through the API, two through another client's publish.
    for (const n of [1, 2, 3]) await publish(n % 2 ? a : b, 'room', { n });
    publisher.send({ action: 'publish', payload: { channel: 'room', message: { n: 4 } } });
    publisher.send({ action: 'publish', payload: { channel: 'room', message: { n: 5 } } });
    const watcher = await client(b);
    await subscribe(watcher, 'room');
    await publish(a, 'room', 'marker');
    await watcher.next(isMessage('room', 'marker'));

    const back = await client(b);
    const recovered = await subscribe(back, 'room', {
      epoch: ack.epoch,
      offset: seen.offset as number,
    });
    expect(recovered).toMatchObject({ epoch: ack.epoch, recovered: true });
    await back.next(isMessage('room', 'marker'));
    await publish(a, 'room', 'live');
    await back.next(isMessage('room', 'live'));
    const o = seen.offset as number;
    expect(messagesOf(back, 'room')).toEqual([
      [o + 1, { n: 1 }],
      [o + 2, { n: 2 }],
      [o + 3, { n: 3 }],
      [o + 4, { n: 4 }],
      [o + 5, { n: 5 }],
      [o + 6, 'marker'],
      [o + 7, 'live'],
    ]);
    expect(recovered.offset).toBe(o + 6);
    for (const c of [publisher, watcher, back]) c.close();
  });

  it('says recovered:false, and replays nothing, for another epoch, a lost history, or too much missed', async () => {
    const c = await client(a);
    const ack = await subscribe(c, 'lossy');
    for (let i = 0; i < 3; i++) await publish(a, 'lossy', i);
    c.close();

    const tries: { epoch: string; offset: number; why: string }[] = [
      { epoch: 'not-ours', offset: 1, why: 'another epoch' },
    ];
    const check = async (since: { epoch: string; offset: number }, why: string) => {
      const back = await client(b);
      const answer = await subscribe(back, 'lossy', since);
      expect(answer.recovered, why).toBe(false);
      await publish(a, 'lossy', `live after ${why}`);
      await back.next(isMessage('lossy', `live after ${why}`));
      // Nothing but the live one.
      expect(
        messagesOf(back, 'lossy').map(([, m]) => m),
        why,
      ).toEqual([`live after ${why}`]);
      back.close();
      return answer;
    };
    for (const t of tries) await check(t, t.why);

    // More than RECOVERY_MAX missed.
    for (let i = 0; i < RECOVERY_MAX + 1; i++) await publish(a, 'lossy', i);
    await check({ epoch: ack.epoch, offset: 3 }, 'more than RECOVERY_MAX');

    // Older than the history kept (HISTORY_SIZE).
    for (let i = 0; i < HISTORY_SIZE; i++) await publish(a, 'lossy', i);
    const top = (await publish(a, 'lossy', 'top')).offset;
    await check({ epoch: ack.epoch, offset: top - HISTORY_SIZE - 1 }, 'older than the history');

    // The meta key deleted (flushed, expired): a new epoch.
    await redis.client().del(historyKeys('pubsub:lossy').meta);
    const again = await check({ epoch: ack.epoch, offset: top }, 'the meta key deleted');
    expect(again.epoch).not.toBe(ack.epoch);
  });

  it('recovers from the top it was told, with nothing missed, as recovered with nothing replayed', async () => {
    const c = await client(a);
    const ack = await subscribe(c, 'quiet');
    c.close();
    const back = await client(b);
    const answer = await subscribe(back, 'quiet', { epoch: ack.epoch, offset: ack.offset });
    expect(answer).toMatchObject({ recovered: true, offset: ack.offset });
    back.close();
  });

  it('refuses a malformed recover with a control error, and the client stays connected', async () => {
    const c = await client(a);
    c.send({ action: 'subscribe', payload: { channel: 'x', recover: { epoch: 'e', offset: -1 } } });
    await c.next(isControl('payload.recover.offset must be a whole number, 0 or more', true));
    c.send({ action: 'subscribe', payload: { channel: 'x', recover: 'yes' } });
    await c.next(isControl('payload.recover must be an object {"epoch","offset"}', true));
    await subscribe(c, 'x');
    c.close();
  });

  it('makes no duplicate and no gap while publishes race the recovery (100 rounds)', async () => {
    const pub = redis.client();
    const first = await client(a);
    const ack = await subscribe(first, 'race');
    first.close();
    let running = true;
    let published = 0;
    // Publishes with history as fast as Redis answers, while clients recover.
    const publishing = (async () => {
      const { RedisHistory } = await import('../../src/sources/RedisHistory.js');
      const history = new RedisHistory(pub, { size: 1000, ttlS: 300 });
      while (running) {
        await history.publish('pubsub:race', String(++published));
        if (published % 5 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    let since = ack.offset;
    for (let round = 0; round < 100; round++) {
      const c = await client(round % 2 ? a : b);
      const answer = await subscribe(c, 'race', { epoch: ack.epoch, offset: since });
      expect(answer.recovered).toBe(true);
      // Wait for a few live ones past the recovered top.
      const until = answer.offset + 3;
      await c.next(
        (f) => isMessage('race')(f) && ((f as ChannelFrame).offset ?? 0) >= until,
        5_000,
      );
      const offsets = messagesOf(c, 'race').map(([o]) => o as number);
      const expected = Array.from({ length: offsets.length }, (_, i) => since + 1 + i);
      expect(offsets, `round ${round}`).toEqual(expected);
      since = offsets[offsets.length - 1] as number;
      c.close();
    }
    running = false;
    await publishing;
  }, 60_000);

  it('tells subscribers when an offset is skipped on live traffic', async () => {
    const c = await client(a);
    await subscribe(c, 'gappy');
    await publish(a, 'gappy', 1);
    await c.next(isMessage('gappy', 1));
    // An offset taken without its message reaching anyone: a lost publish.
    await redis.client().hincrby(historyKeys('pubsub:gappy').meta, 's', 1);
    await publish(a, 'gappy', 3);
    const told = (await c.next((f) => (f as { gap?: unknown }).gap === true)) as Record<
      string,
      unknown
    >;
    expect(told).toMatchObject({ controlMessage: true, channel: 'gappy', gap: true });
    // Told before the message that showed the gap.
    await c.next(isMessage('gappy', 3));
    c.close();
  });

  // Last: it restarts Redis.
  it('says recovered:false for a position from before a Redis restart without persistence', async () => {
    const c = await client(a);
    const ack = await subscribe(c, 'restarted');
    await publish(a, 'restarted', 'before');
    const seen = (await c.next(isMessage('restarted', 'before'))) as ChannelFrame;
    c.close();
    await redis.kill();
    await redis.restart();
    await waitUntil(
      () => a.streamer.readiness().ready && b.streamer.readiness().ready,
      10_000,
      'both instances back on Redis',
    );
    const back = await client(b);
    const answer = await subscribe(back, 'restarted', {
      epoch: ack.epoch,
      offset: seen.offset as number,
    });
    expect(answer.recovered).toBe(false);
    expect(answer.epoch).not.toBe(ack.epoch);
    await publish(a, 'restarted', 'after');
    expect(await back.next(isMessage('restarted', 'after'))).toMatchObject({ offset: 1 });
    back.close();
  });
});
