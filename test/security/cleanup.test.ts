// Cleanup closes only the streams whose owner proves it: the token the page
// opened them with. Another client on the same IP, a forged X-Forwarded-For
// (the IP is in the status document) and another site's page cannot close
// them; the Ruby streamer's IP matching is there only behind CLEANUP_BY_IP.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { waitUntil } from '../support/sse.js';
import { postFrom, streamFrom } from '../ops/clientFrom.js';
import type { StreamFrom } from '../ops/clientFrom.js';

let app: TestApp | undefined;
const streams: StreamFrom[] = [];
const MINE = 'page-token-0123456789abcdef';
const OTHER = 'other-page-token-fedcba9876543210';

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await app?.close();
  app = undefined;
});

async function start(env: Record<string, string> = {}): Promise<TestApp> {
  app = await startApp({ source: new MemoryBus(), env });
  return app;
}
async function from(ip: string, path: string, headers?: Record<string, string>) {
  const s = await streamFrom(`${app?.url}${path}`, ip, headers);
  streams.push(s);
  return s;
}
const clients = () => app?.streamer.hub.clientCount();

describe('cleanup by the owner', () => {
  it('closes only the streams opened with the token it sends', async () => {
    await start();
    const mine = await from('127.0.0.1', `/subscribe/eps?cleanup=${MINE}`);
    const mineDetail = await from('127.0.0.1', `/subscribe/details/2665?cleanup=${MINE}`);
    const neighbour = await from('127.0.0.1', `/subscribe/eps?cleanup=${OTHER}`);
    const untokened = await from('127.0.0.1', '/subscribe/eps');
    await waitUntil(() => clients() === 4);

    const reply = await postFrom(
      `${app?.url}/subscribe/cleanup/scores?cleanup=${MINE}`,
      '127.0.0.1',
    );
    expect(reply).toEqual({ status: 200, body: { status: 'OK', closed: 1 } });
    await mine.ended();
    expect(mineDetail.isEnded()).toBe(false);
    expect(neighbour.isEnded()).toBe(false);
    expect(untokened.isEnded()).toBe(false);

    // The header works as the query does, for the detail stream of that id only.
    const wrongId = await postFrom(`${app?.url}/subscribe/cleanup/details/1F602`, '127.0.0.1', {
      'X-Cleanup-Token': MINE,
    });
    expect(wrongId.body).toEqual({ status: 'OK', closed: 0 });
    const detail = await postFrom(`${app?.url}/subscribe/cleanup/details/2665`, '127.0.0.1', {
      'X-Cleanup-Token': MINE,
    });
    expect(detail.body).toEqual({ status: 'OK', closed: 1 });
    await mineDetail.ended();
    expect(clients()).toBe(2);
  });

  it('without a token closes nothing, even from the same IP or a forged X-Forwarded-For', async () => {
    await start({ TRUST_PROXY: 'loopback' });
    const victim = await from('127.0.0.1', `/subscribe/eps?cleanup=${MINE}`, {
      'X-Forwarded-For': '203.0.113.7',
    });
    const plain = await from('127.0.0.1', '/subscribe/eps');
    await waitUntil(() => clients() === 2);
    for (const headers of [{ 'X-Forwarded-For': '203.0.113.7' }, {}] as Record<string, string>[]) {
      const reply = await postFrom(`${app?.url}/subscribe/cleanup/scores`, '127.0.0.1', headers);
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ code: 'RXS_ERR_BAD_REQUEST' });
      expect(JSON.stringify(reply.body)).toContain('CLEANUP_BY_IP');
    }
    // A guessed token is a token of nobody's streams.
    const guessed = await postFrom(
      `${app?.url}/subscribe/cleanup/scores?cleanup=${'a'.repeat(32)}`,
      '127.0.0.1',
    );
    expect(guessed.body).toEqual({ status: 'OK', closed: 0 });
    expect(victim.isEnded()).toBe(false);
    expect(plain.isEnded()).toBe(false);
    expect(clients()).toBe(2);
  });

  it('refuses a malformed token, on the stream and on cleanup', async () => {
    await start();
    const stream = await from('127.0.0.1', '/subscribe/eps?cleanup=short');
    expect(stream.status).toBe(400);
    const reply = await postFrom(`${app?.url}/subscribe/cleanup/scores?cleanup=a%20b`, '127.0.0.1');
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ code: 'RXS_ERR_BAD_REQUEST' });
    expect(clients()).toBe(0);
  });

  it('matches by client IP behind CLEANUP_BY_IP, as the Ruby streamer did', async () => {
    await start({ CLEANUP_BY_IP: 'true' });
    const mine = await from('127.0.0.1', '/subscribe/eps');
    const theirs = await from('127.0.0.2', '/subscribe/eps');
    await waitUntil(() => clients() === 2);
    const reply = await postFrom(`${app?.url}/subscribe/cleanup/scores`, '127.0.0.1');
    expect(reply.body).toEqual({ status: 'OK', closed: 1 });
    await mine.ended();
    expect(theirs.isEnded()).toBe(false);
  });
});
