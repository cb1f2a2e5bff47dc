// Recovery on reconnect for notification streams, against a real Redis and two
// instances: each event's id is the stream's position; a stream that comes
// back to the other instance with it (Last-Event-ID, or ?lastEventId=) gets,
// right after `ok`, exactly what its channels missed, then live messages; one
// that cannot be resumed gets `event:unrecovered` right after `ok`; publishes
// racing the reconnect make no duplicate and no gap; a gap seen on live
// traffic ends the stream, and coming back with its id recovers what was lost.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyKeys } from '../../src/sources/channelHistory.js';
import { RedisHistory } from '../../src/sources/RedisHistory.js';
import { startApp } from '../support/app.js';
import { publishApi } from '../support/publish.js';
import type { TestApp } from '../support/app.js';
import { afterOk, openNotify } from '../support/notify.js';
import type { NotifyReader } from '../support/notify.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { isControl, openWs } from '../support/ws.js';

const KEY = 'publish-key-0123456789';
let redis: TestRedis;
let commands: Redis;
let history: RedisHistory;
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  redis = await startRedis();
  commands = redis.client();
  history = new RedisHistory(commands, { size: 100, ttlS: 300 });
  const env = { PUBLISH_API_KEY: KEY, RECOVERY_MAX: '20', NOOP_MS: '60000' };
  a = await startApp({ redisUrl: redis.url, env: { NODE_NAME: 'na', ...env } });
  b = await startApp({ redisUrl: redis.url, env: { NODE_NAME: 'nb', ...env } });
});

afterAll(async () => {
  await Promise.all([a, b].map((app) => app?.close()));
  await redis?.stop();
});

const setChannels = async (user: string, channels: readonly string[]) => {
  await commands.del(`user:${user}:channels`);
  await commands.sadd(`user:${user}:channels`, ...channels);
};

const open = async (app: TestApp, user: string, lastEventId?: string, inQuery = false) => {
  const query = new URLSearchParams({ user });
  if (lastEventId !== undefined && inQuery) query.set('lastEventId', lastEventId);
  const s = await openNotify(`${app.url}/?${query.toString()}`, {
    headers: lastEventId !== undefined && !inQuery ? { 'Last-Event-ID': lastEventId } : {},
  });
  await s.waitStatus('ok');
  return s;
};

const publish = (app: TestApp, channel: string, data: unknown) =>
  publishApi(app.url, KEY, channel, data);

const lastId = (s: NotifyReader): string => s.events().at(-1)?.id as string;

describe('notification stream recovery', () => {
  it('gives a stream back on the other instance exactly the 5 it missed, in order, then live ones', async () => {
    await setChannels('r1', ['user:r1', 'room:r1', 'pubsub:lobby-r1']);
    const first = await open(a, 'r1');
    await publish(a, 'room:r1', 'before');
    await first.waitMessage('before');
    const id = lastId(first);
    first.close();

    // Three through the API, two through a pub/sub client's publish (channel lobby-r1).
    const publisher = await openWs(`ws://127.0.0.1:${b.port}/pubsub`);
    await publish(a, 'room:r1', 'one');
    await publish(b, 'room:r1', 'two');
    publisher.send({ action: 'publish', payload: { channel: 'lobby-r1', message: 'three' } });
    publisher.send({ action: 'publish', payload: { channel: 'lobby-r1', message: 'four' } });
    await publish(a, 'room:r1', 'five');
    // Both publishes through the pub/sub client are in before it comes back.
    const watcher = await openWs(`ws://127.0.0.1:${b.port}/pubsub`);
    watcher.send({ action: 'subscribe', payload: { channel: 'lobby-r1' } });
    const ack = (await watcher.next(isControl('Subscribed to lobby-r1'))) as { offset: number };
    expect(ack.offset).toBe(2);

    const back = await open(b, 'r1', id);
    await back.waitMessage('five');
    await publish(a, 'room:r1', 'live');
    await back.waitMessage('live');
    const got = afterOk(back);
    // In order on each channel, one channel's missed messages after the other's.
    expect(got.filter((m) => ['one', 'two', 'five'].includes(m))).toEqual(['one', 'two', 'five']);
    // A pub/sub publish is the message's JSON text.
    expect(got.filter((m) => m.startsWith('"'))).toEqual(['"three"', '"four"']);
    expect(got).toHaveLength(6);
    expect(got.at(-1)).toBe('live');
    for (const c of [back]) c.close();
    publisher.close();
    watcher.close();
  });

  it('resumes from ?lastEventId= as from the header', async () => {
    await setChannels('r2', ['user:r2', 'room:r2']);
    const first = await open(a, 'r2');
    const id = lastId(first);
    first.close();
    await publish(a, 'room:r2', 'missed');
    const back = await open(b, 'r2', id, true);
    await back.waitMessage('missed');
    expect(afterOk(back)).toEqual(['missed']);
    back.close();
  });

  it('says event:unrecovered right after ok for an id it did not make, and for a lost history', async () => {
    await setChannels('r3', ['user:r3', 'room:r3']);
    const strange = await open(b, 'r3', '42');
    await strange.waitFor((e) => e.some((x) => x.event === 'unrecovered'), 'unrecovered');
    const [said] = afterOk(strange);
    expect(said).toMatch(/^event:unrecovered /);
    const reason = JSON.parse((said as string).slice('event:unrecovered '.length)) as {
      reason: string;
      channels: string[];
    };
    expect(reason.reason).toBe('the Last-Event-ID is not a position of this server');
    expect(reason.channels.sort()).toEqual(['room:r3', 'user:r3']);
    strange.close();

    const first = await open(a, 'r3');
    await publish(a, 'room:r3', 'seen');
    await first.waitMessage('seen');
    const id = lastId(first);
    first.close();
    await publish(a, 'room:r3', 'lost');
    await commands.del(historyKeys('room:r3').meta);
    const back = await open(b, 'r3', id);
    await back.waitFor((e) => e.some((x) => x.event === 'unrecovered'), 'unrecovered');
    const [told, ...rest] = afterOk(back);
    expect(told).toMatch(/^event:unrecovered /);
    expect(JSON.parse((told as string).slice('event:unrecovered '.length))).toMatchObject({
      channels: ['room:r3'],
    });
    expect(rest).toEqual([]);
    // Live from now on.
    await publish(a, 'room:r3', 'after');
    await back.waitMessage('after');
    back.close();
  });

  it('makes no duplicate and no gap while publishes race the reconnect (100 rounds)', async () => {
    await setChannels('r4', ['user:r4', 'room:r4']);
    let running = true;
    let n = 0;
    const publishing = (async () => {
      while (running) {
        await history.publish('room:r4', String(++n));
        if (n % 5 === 0) await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const first = await open(a, 'r4');
    await first.waitFor((e) => e.some((x) => x.data === '3' || Number(x.data) > 3), 'a few');
    let id = lastId(first);
    let last = Math.max(...first.messages().map(Number));
    first.close();
    for (let round = 0; round < 100; round++) {
      const s = await open(round % 2 ? a : b, 'r4', id);
      const until = last + 10;
      await s.waitFor((e) => e.some((x) => Number(x.data) >= until), `up to ${until}`);
      const got = s.messages().map(Number);
      const expected = Array.from({ length: got.length }, (_, i) => last + 1 + i);
      expect(got, `round ${round}`).toEqual(expected);
      id = lastId(s);
      last = got.at(-1) as number;
      s.close();
    }
    running = false;
    await publishing;
  }, 60_000);

  it('ends the streams of a channel whose offsets skip, and coming back recovers what was lost', async () => {
    await setChannels('r5', ['user:r5', 'room:r5']);
    const s = await open(a, 'r5');
    await publish(a, 'room:r5', 'first');
    await s.waitMessage('first');
    const id = lastId(s);
    // Offset 2 taken and kept in Redis, its message never reaching this instance.
    await commands.hincrby(historyKeys('room:r5').meta, 's', 1);
    await commands.xadd(historyKeys('room:r5').stream, '2-0', 'p', 'never arrived');
    await publish(a, 'room:r5', 'after the gap');
    await s.ended();
    // Ended with a retry (an event with no data), after what it had been sent.
    expect(s.messages()).toEqual(['first', '']);
    expect(s.events().at(-1)?.retry).toMatch(/^\d+$/);
    // Its last id brings back both.
    const back = await open(b, 'r5', id);
    await back.waitMessage('after the gap');
    expect(afterOk(back)).toEqual(['never arrived', 'after the gap']);
    back.close();
  });
});
