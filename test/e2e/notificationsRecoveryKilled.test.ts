// Notification stream recovery when things die, with two real server processes
// on one real Redis: a stream on instance A keeps its last event id; A is
// SIGKILLed, so it says nothing to anyone; five messages are published through
// B's API; the stream comes back to B with the id in Last-Event-ID and gets
// exactly those five right after `ok`, in order, then live ones. And a
// position from before a Redis restart without persistence (everything gone:
// epochs, offsets, the user's set) gets `event:unrecovered`; while Redis is
// down, a stream that comes back is told `error` under the id it came with,
// so that it does not forget where it was.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StreamPosition } from '../../src/protocols/notifications/streamPosition.js';
import { afterOk, openNotify, statusData } from '../support/notify.js';
import type { NotifyReader } from '../support/notify.js';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';

const KEY = 'killed-notify-key-0123';
let redis: TestRedis;
let cli: Redis;
let a: ServerProcess;
let b: ServerProcess;

const serve = (name: string) =>
  startServerProcess({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
    REDIS_URL: redis.url,
    NODE_NAME: name,
    PROTOCOLS: 'notifications',
    PUBLISH_API_KEY: KEY,
    NOOP_MS: '60000',
  });

beforeAll(async () => {
  redis = await startRedis();
  cli = redis.client();
  [a, b] = await Promise.all([serve('doomed'), serve('survivor')]);
  // Listening comes before Redis is ready; a stream opened in between gets `error`.
  await Promise.all([readyz(a, 200), readyz(b, 200)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
});

const setChannels = async (user: string, channels: readonly string[]) => {
  await cli.del(`user:${user}:channels`);
  await cli.sadd(`user:${user}:channels`, ...channels);
};

const open = (server: ServerProcess, user: string, lastEventId?: string) =>
  openNotify(`${server.url}/?user=${user}`, {
    headers: lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId },
  });

const publishApi = async (server: ServerProcess, channel: string, data: string) => {
  const res = await fetch(`${server.url}/api/publish`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ channel, data }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { epoch: string; offset: number };
};

const lastId = (s: NotifyReader): string => s.events().at(-1)?.id as string;

async function readyz(server: ServerProcess, status: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const got = await fetch(`${server.url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (got === status) return;
    if (Date.now() > deadline)
      throw new Error(`/readyz of ${server.url} stayed ${got}, not ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('gives a stream of a SIGKILLed instance exactly the 5 it missed, on the other, right after ok, then live', async () => {
  await setChannels('k1', ['user:k1', 'room:k1']);
  const first = await open(a, 'k1');
  await first.waitStatus('ok');
  await publishApi(a, 'room:k1', 'one');
  const { epoch } = await publishApi(b, 'room:k1', 'two');
  await first.waitMessage('two');
  const id = lastId(first);
  expect(StreamPosition.parse(id)?.get('room:k1')).toEqual({ epoch, offset: 2 });

  a.child.kill('SIGKILL');
  expect(await a.exited()).toEqual({ code: null, signal: 'SIGKILL' });
  // A killed process says nothing: the stream just ends, with no retry farewell.
  await first.ended();
  expect(first.events().some((e) => e.retry !== undefined)).toBe(false);

  const missed = ['three', 'four', 'five', 'six', 'seven'];
  for (const m of missed) await publishApi(b, 'room:k1', m);

  const back = await open(b, 'k1', id);
  await back.waitStatus('ok');
  await back.waitMessage('seven');
  await publishApi(b, 'room:k1', 'live');
  await back.waitMessage('live');
  expect(afterOk(back)).toEqual([...missed, 'live']);
  expect(back.statuses()).toEqual(['ok']);
  // Each one's id is the stream's position after it: room:k1 at offsets 3…8, in one epoch.
  const positions = back
    .events()
    .filter((e) => e.event === undefined && [...missed, 'live'].includes(e.data))
    .map((e) => StreamPosition.parse(e.id ?? '')?.get('room:k1'));
  expect(positions).toEqual([3, 4, 5, 6, 7, 8].map((offset) => ({ epoch, offset })));
  back.close();
}, 60_000);

it('says event:unrecovered to a stream back from before a Redis restart without persistence', async () => {
  await setChannels('k2', ['user:k2', 'room:k2']);
  const s = await open(b, 'k2');
  await s.waitStatus('ok');
  await publishApi(b, 'room:k2', 'seen');
  await s.waitMessage('seen');
  const id = lastId(s);

  await redis.kill(true);
  // The stream says `error` and ends; the instance is not ready while Redis is away.
  await s.ended(10_000);
  expect(s.statuses()).toEqual(['ok', 'error']);
  await readyz(b, 503);

  // Back while Redis is down: `error` again, under the id it came with, so it keeps its place.
  const early = await open(b, 'k2', id);
  await early.ended(10_000);
  expect(early.events().map((e) => [e.id, e.data])).toEqual([[id, statusData('error')]]);
  // An id it did not make is not written back (a line break in it would inject events).
  const forged = await openNotify(
    `${b.url}/?user=k2&lastEventId=${encodeURIComponent(`${id}\ndata:injected`)}`,
  );
  await forged.ended(10_000);
  expect(forged.events().map((e) => [e.id, e.data])).toEqual([
    [new StreamPosition().idFor(undefined), statusData('error')],
  ]);

  await redis.restart();
  await readyz(b, 200);
  // Everything is gone, the user's set too: the app writes it again.
  expect(await cli.exists('user:k2:channels')).toBe(0);
  await setChannels('k2', ['user:k2', 'room:k2']);

  const back = await open(b, 'k2', id);
  await back.waitStatus('ok');
  await back.waitFor((e) => e.some((x) => x.event === 'unrecovered'), 'event:unrecovered');
  const [told, ...rest] = afterOk(back);
  expect(told).toMatch(/^event:unrecovered /);
  const said = JSON.parse((told as string).slice('event:unrecovered '.length)) as {
    reason: string;
    channels: string[];
  };
  expect(said.channels.sort()).toEqual(['room:k2', 'user:k2']);
  expect(said.reason).toMatch(/^what these channels missed is no longer in their history/);
  expect(rest).toEqual([]);
  // Live from the new epochs on.
  await publishApi(b, 'room:k2', 'after');
  await back.waitMessage('after');
  expect(afterOk(back).slice(1)).toEqual(['after']);
  back.close();
}, 60_000);
