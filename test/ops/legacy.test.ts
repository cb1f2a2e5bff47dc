// The Ruby streamer's connection management, over real sockets: forced refresh
// (retry lines, the cleanup header, maximum stream ages, shortened by
// configuration), the cleanup endpoints, and ENABLE_RAW_STREAM.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { getJson, openSse, waitUntil } from '../support/sse.js';
import type { RawSse } from '../support/sse.js';
import { postFrom, streamFrom } from './clientFrom.js';
import type { StreamFrom } from './clientFrom.js';

let app: TestApp | undefined;
const streams: { close(): void }[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await app?.close();
  app = undefined;
});

async function start(env: Record<string, string> = {}): Promise<{ app: TestApp; bus: MemoryBus }> {
  const bus = new MemoryBus();
  app = await startApp({ source: bus, env });
  return { app, bus };
}
async function sse(path: string, headers?: Record<string, string>): Promise<RawSse> {
  const s = await openSse(`${app?.url}${path}`, headers ? { headers } : {});
  streams.push(s);
  return s;
}
async function from(
  ip: string,
  path: string,
  headers?: Record<string, string>,
): Promise<StreamFrom> {
  const s = await streamFrom(`${app?.url}${path}`, ip, headers);
  streams.push(s);
  return s;
}

describe('SSE_FORCE_REFRESH', () => {
  it('is off by default: no retry line, no cleanup header, no maximum age', async () => {
    await start({ SSE_MAX_AGE_MS: '100' });
    const eps = await sse('/subscribe/eps');
    await eps.waitFor((_e, text) => text.length > 0);
    expect(eps.text().startsWith(':ok\n\n')).toBe(true);
    expect(eps.headers['x-sse-cleanup-requested']).toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(app?.streamer.hub.clientCount('eps')).toBe(1);
  });

  it('starts streams with retry:100 (scores) and retry:500 (details) and sends the header', async () => {
    await start({ SSE_FORCE_REFRESH: 'true' });
    for (const path of ['/subscribe/eps', '/subscribe/raw']) {
      const s = await sse(path);
      await s.waitFor((_e, text) => text.length >= 'retry:100\n\n'.length);
      expect(s.text().startsWith('retry:100\n\n')).toBe(true);
      expect(s.headers['x-sse-cleanup-requested']).toBe('true');
      expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    }
    const detail = await sse('/subscribe/details/1F602');
    await detail.waitFor((_e, text) => text.length >= 'retry:500\n\n'.length);
    expect(detail.text().startsWith('retry:500\n\n')).toBe(true);
    expect(detail.headers['x-sse-cleanup-requested']).toBe('true');
  });

  it('takes its retry timings from configuration', async () => {
    await start({ SSE_FORCE_REFRESH: 'yes', SSE_RETRY_MS: '250', SSE_DETAIL_RETRY_MS: '1500' });
    const eps = await sse('/subscribe/eps');
    const detail = await sse('/subscribe/details/2665');
    await eps.waitFor((_e, t) => t.includes('\n\n'));
    await detail.waitFor((_e, t) => t.includes('\n\n'));
    expect(eps.text().startsWith('retry:250\n\n')).toBe(true);
    expect(detail.text().startsWith('retry:1500\n\n')).toBe(true);
  });

  it('ends score streams after SSE_MAX_AGE_MS and detail streams after SSE_DETAIL_MAX_AGE_MS', async () => {
    const { bus } = await start({
      SSE_FORCE_REFRESH: '1',
      SSE_MAX_AGE_MS: '300',
      SSE_DETAIL_MAX_AGE_MS: '900',
      EPS_INTERVAL_MS: '20',
    });
    const opened = Date.now();
    const eps = await sse('/subscribe/eps');
    const detail = await sse('/subscribe/details/1F602');
    const feeding = setInterval(() => {
      bus.publish('stream.score_updates', '1F602');
      bus.publish('stream.tweet_updates.1F602', '{"id":"1"}');
    }, 10);
    try {
      await eps.ended();
      const epsAge = Date.now() - opened;
      expect(epsAge).toBeGreaterThanOrEqual(290);
      // Data flowed until the end, and the detail stream outlives the score stream.
      expect(eps.events().length).toBeGreaterThan(0);
      expect(app?.streamer.hub.clientCount('details')).toBe(1);
      await detail.ended();
      expect(Date.now() - opened).toBeGreaterThanOrEqual(890);
      expect(detail.events().some((e) => e.event === 'stream.tweet_updates.1F602')).toBe(true);
      expect(app?.streamer.hub.stats.streamsExpired).toBe(2);
    } finally {
      clearInterval(feeding);
    }
  });

  it('expires many streams of staggered ages in opening order, with one shared timer', async () => {
    await start({ SSE_FORCE_REFRESH: 'true', SSE_MAX_AGE_MS: '200' });
    const batch: RawSse[] = [];
    for (let i = 0; i < 20; i++) {
      batch.push(await sse('/subscribe/eps'));
      await new Promise((r) => setTimeout(r, 10));
    }
    const endedAt: number[] = [];
    await Promise.all(batch.map((s, i) => s.ended().then(() => (endedAt[i] = Date.now()))));
    for (let i = 1; i < endedAt.length; i++)
      expect(endedAt[i]).toBeGreaterThanOrEqual(endedAt[i - 1] as number);
    expect(app?.streamer.hub.clientCount()).toBe(0);
  });
});

describe('POST /subscribe/cleanup/… with CLEANUP_BY_IP', () => {
  it("closes only the caller's /eps streams and says how many", async () => {
    const { bus } = await start({ EPS_INTERVAL_MS: '20', CLEANUP_BY_IP: 'true' });
    const mineA = await from('127.0.0.1', '/subscribe/eps');
    const mineB = await from('127.0.0.1', '/subscribe/eps');
    const mineRaw = await from('127.0.0.1', '/subscribe/raw');
    const theirs = await from('127.0.0.2', '/subscribe/eps');
    await waitUntil(() => app?.streamer.hub.clientCount() === 4);

    const reply = await postFrom(`${app?.url}/subscribe/cleanup/scores`, '127.0.0.1');
    expect(reply).toEqual({ status: 200, body: { status: 'OK', closed: 2 } });
    await mineA.ended();
    await mineB.ended();
    expect(mineRaw.isEnded()).toBe(false);
    expect(theirs.isEnded()).toBe(false);
    bus.publish('stream.score_updates', '2665');
    await waitUntil(() => theirs.text().includes('data:{"2665":1}'), 5_000, 'eps data');

    const again = await postFrom(`${app?.url}/subscribe/cleanup/scores`, '127.0.0.1');
    expect(again.body).toEqual({ status: 'OK', closed: 0 });
  });

  it("closes only the caller's detail streams for that id", async () => {
    await start({ CLEANUP_BY_IP: 'true' });
    const mine2665 = await from('127.0.0.1', '/subscribe/details/2665');
    const mine1F602 = await from('127.0.0.1', '/subscribe/details/1F602');
    const theirs2665 = await from('127.0.0.2', '/subscribe/details/2665');
    await waitUntil(() => app?.streamer.hub.clientCount() === 3);

    const reply = await postFrom(`${app?.url}/subscribe/cleanup/details/2665`, '127.0.0.1');
    expect(reply.body).toEqual({ status: 'OK', closed: 1 });
    await mine2665.ended();
    expect(mine1F602.isEnded()).toBe(false);
    expect(theirs2665.isEnded()).toBe(false);

    const theirsReply = await postFrom(`${app?.url}/subscribe/cleanup/details/2665`, '127.0.0.2');
    expect(theirsReply.body).toEqual({ status: 'OK', closed: 1 });
    await theirs2665.ended();
    expect(mine1F602.isEnded()).toBe(false);
  });

  it('uses the forwarded client address when TRUST_PROXY says so', async () => {
    await start({ TRUST_PROXY: 'loopback', CLEANUP_BY_IP: 'true' });
    const a = await from('127.0.0.1', '/subscribe/eps', { 'X-Forwarded-For': '203.0.113.7' });
    const b = await from('127.0.0.1', '/subscribe/eps', { 'X-Forwarded-For': '198.51.100.9' });
    await waitUntil(() => app?.streamer.hub.clientCount() === 2);
    const reply = await postFrom(`${app?.url}/subscribe/cleanup/scores`, '127.0.0.1', {
      'X-Forwarded-For': '203.0.113.7',
    });
    expect(reply.body).toEqual({ status: 'OK', closed: 1 });
    await a.ended();
    expect(b.isEnded()).toBe(false);
    const status = await getJson<{ connections: { client_ip: string }[] }>(
      `${app?.url}/admin/status.json`,
    );
    expect(status.body.connections.map((c) => c.client_ip)).toEqual(['198.51.100.*']);
  });

  it('answers a bad id with 400 and other methods with 405, in JSON', async () => {
    await start();
    const bad = await postFrom(`${app?.url}/subscribe/cleanup/details/nope`, '127.0.0.1');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'RXS_ERR_BAD_ID' });
    const get = await fetch(`${app?.url}/subscribe/cleanup/scores`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await get.json()).toMatchObject({ code: 'RXS_ERR_METHOD' });
  });
});

describe('ENABLE_RAW_STREAM', () => {
  it('serves /subscribe/raw by default', async () => {
    await start();
    const raw = await sse('/subscribe/raw');
    expect(raw.status).toBe(200);
  });

  it('answers 404 with a JSON error naming the variable when false', async () => {
    await start({ ENABLE_RAW_STREAM: 'false' });
    const res = await getJson<{ code: string; message: string }>(`${app?.url}/subscribe/raw`);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('RXS_ERR_DISABLED');
    expect(res.body.message).toContain('ENABLE_RAW_STREAM');
  });
});
