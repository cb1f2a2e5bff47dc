// A SockJS client that stops fetching (an XHR-polling client that never polls
// again) is bounded like a slow SSE or WebSocket client: dropped, while a client
// that keeps reading gets every message. Raw HTTP, as the polling transport is.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { waitUntil } from '../support/sse.js';
import { isControl, isMessage, openWs } from '../support/ws.js';

let app: TestApp;
const bus = new MemoryBus();

beforeAll(async () => {
  app = await startApp({
    source: bus,
    env: { SSE_MAX_BUFFER_BYTES: '4096', SLOW_CLIENT_TIMEOUT_MS: '200' },
  });
});

afterAll(async () => {
  await app.close();
});

const post = async (path: string, body?: string) => {
  const res = await fetch(`${app.url}${path}`, {
    method: 'POST',
    ...(body === undefined ? {} : { body, headers: { 'Content-Type': 'text/plain' } }),
  });
  return { status: res.status, text: await res.text() };
};

it('drops an XHR-polling client that stops polling, and no other', async () => {
  const base = '/pubsub/000/stalled';
  expect((await post(`${base}/xhr`)).text).toBe('o\n');
  const subscribe = JSON.stringify([
    JSON.stringify({ action: 'subscribe', payload: { channel: 'flood' } }),
  ]);
  expect((await post(`${base}/xhr_send`, subscribe)).status).toBe(204);
  // One poll to fetch the acknowledgement, then never again.
  expect((await post(`${base}/xhr`)).text).toContain('Subscribed to flood');

  const reader = await openWs(`ws://127.0.0.1:${app.port}/pubsub`);
  reader.send({ action: 'subscribe', payload: { channel: 'flood' } });
  await reader.next(isControl('Subscribed to flood'));

  const dropped = () => app.streamer.hub.stats.slowClientsDropped;
  const text = 'x'.repeat(1000);
  let sent = 0;
  await waitUntil(
    async () => {
      for (let i = 0; i < 10; i++) bus.publish('pubsub:flood', JSON.stringify({ n: sent++, text }));
      await new Promise((r) => setTimeout(r, 20));
      return dropped() === 1;
    },
    10_000,
    'the stalled client dropped',
  );
  await reader.next(isMessage('flood', { n: sent - 1, text }));
  expect(reader.received.filter(isMessage('flood'))).toHaveLength(sent);
  // Its session is closed: polling again gets what was queued, then the close frame.
  const polls: string[] = [];
  for (let i = 0; i < 5 && !polls.some((p) => p.startsWith('c[')); i++)
    polls.push((await post(`${base}/xhr`)).text);
  expect(polls.at(-1)).toMatch(/^c\[1001,/);
  reader.close();
});
