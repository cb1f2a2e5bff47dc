// WORKERS=2 in Chromium: the real sockjs-client on every transport it has,
// iframe and JSONP ones included, against /pubsub/ of a server process whose
// primary routes each connection by its SockJS session. Chromium keeps six
// connections a host and reuses them from one session to the next, so these
// sessions run two at a time, 20 per transport, each subscribing, receiving
// what a WebSocket client publishes and publishing back, and none is lost.
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdOf, slotOf } from '../../src/transports/http/sessionRoute.js';
import { launchBrowser } from '../support/browser.js';
import type { PageSockJs } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { freePort, startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/sse.js';
import { isControl, isMessage, openWs } from '../support/ws.js';

const SOCKJS_CLIENT = createRequire(import.meta.url).resolve('sockjs-client/dist/sockjs.min.js');
const SESSIONS = 20;
const AT_ONCE = 2;
let redis: TestRedis;
let server: ServerProcess;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  redis = await startRedis();
  server = await startServerProcess({
    WORKERS: '2',
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    LOG_LEVEL: 'info',
  });
  await waitUntil(
    () => server.logs().filter((l) => l.message.includes('listening')).length === 2,
    20_000,
    'two workers',
  );
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.goto(`${server.url}/examples/chat.html`);
  await page.addScriptTag({ path: SOCKJS_CLIENT });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await redis?.stop();
});

/**
 * Opens a session in the page on one transport and subscribes it to `channel`;
 * resolves once subscribed, with the transport it runs on. Its frames land in
 * window.frames_<name>; a close before the test closes it, in window.closed_<name>.
 */
function openSubscribed(name: string, transport: string, channel: string): Promise<string> {
  return page.evaluate(
    ([n, t, url, ch]) =>
      new Promise<string>((resolve, reject) => {
        const w = globalThis as unknown as Record<string, unknown>;
        const SockJS = w.SockJS as PageSockJs;
        const sock = new SockJS(url, null, { transports: [t] });
        const frames: { content?: string }[] = [];
        w[`frames_${n}`] = frames;
        w[`sock_${n}`] = sock;
        sock.onopen = () =>
          sock.send(JSON.stringify({ action: 'subscribe', payload: { channel: ch } }));
        sock.onclose = (e) => {
          w[`closed_${n}`] = `${e.code} ${e.reason}`;
          reject(new Error(`closed ${e.code} ${e.reason}`));
        };
        sock.onmessage = (e) => {
          const frame = JSON.parse(e.data) as { content?: string };
          frames.push(frame);
          if (frame.content === `Subscribed to ${ch}`) resolve(sock.transport);
        };
      }),
    [name, transport, `${server.url}/pubsub`, channel] as const,
  );
}

const sendFrom = (name: string, frame: unknown) =>
  page.evaluate(
    ([n, f]) =>
      (globalThis as unknown as Record<string, { send(d: string): void }>)[`sock_${n}`]?.send(f),
    [name, JSON.stringify(frame)] as const,
  );

const waitForFrame = (name: string, json: string) =>
  page.waitForFunction(
    ([n, j]) =>
      ((globalThis as unknown as Record<string, unknown[]>)[`frames_${n}`] ?? []).some(
        (f) => JSON.stringify((f as { message?: unknown }).message) === j,
      ),
    [name, json] as const,
    { timeout: 15_000 },
  );

/** Closes a session from the page; resolves with how sessions closed that were not closed here. */
const closeAndCheck = (name: string) =>
  page.evaluate((n) => {
    const w = globalThis as unknown as Record<string, unknown>;
    const early = w[`closed_${n}`] as string | undefined;
    (w[`sock_${n}`] as { onclose: unknown; close(): void }).onclose = null;
    (w[`sock_${n}`] as { close(): void }).close();
    return early;
  }, name);

describe.each([
  ['websocket', 'websocket'],
  ['xhr-streaming', 'xhr_streaming'],
  ['xhr-polling', 'xhr'],
  ['eventsource', 'eventsource'],
  ['iframe-eventsource', 'eventsource'],
  ['iframe-htmlfile', 'htmlfile'],
  ['iframe-xhr-polling', 'xhr'],
  ['jsonp-polling', 'jsonp'],
])('sockjs-client in Chromium over %s', (transport, urlPart) => {
  it(`keeps ${SESSIONS} sessions, two at a time, each on its worker`, async () => {
    const sessionUrls: string[] = [];
    const onRequest = (r: { url(): string }) => {
      const path = new URL(r.url()).pathname;
      if (path.endsWith(`/${urlPart}`)) sessionUrls.push(path);
    };
    page.on('request', onRequest);
    const channel = `b.${transport}`;
    const ws = await openWs(`ws://127.0.0.1:${server.port}/pubsub`);
    ws.send({ action: 'subscribe', payload: { channel } });
    await ws.next(isControl(`Subscribed to ${channel}`));
    const early: string[] = [];
    try {
      for (let first = 0; first < SESSIONS; first += AT_ONCE) {
        const names = Array.from(
          { length: AT_ONCE },
          (_, k) => `${transport.replaceAll('-', '_')}_${first + k}`,
        );
        const used = await Promise.all(names.map((n) => openSubscribed(n, transport, channel)));
        expect(used).toEqual(names.map(() => transport));
        ws.send({ action: 'publish', payload: { channel, message: { batch: first } } });
        await Promise.all(names.map((n) => waitForFrame(n, JSON.stringify({ batch: first }))));
        for (const n of names) {
          await sendFrom(n, { action: 'publish', payload: { channel, message: { from: n } } });
        }
        await waitUntil(
          () => names.every((n) => ws.received.some(isMessage(channel, { from: n }))),
          15_000,
          `publishes from ${names.join(', ')}`,
        );
        for (const n of names) {
          const closed = await closeAndCheck(n);
          if (closed) early.push(`${n}: ${closed}`);
        }
      }
    } finally {
      // Whatever a failure left open would hold one of the page's six connections.
      await page.evaluate(() => {
        for (const [key, value] of Object.entries(globalThis)) {
          if (key.startsWith('sock_')) (value as { close(): void }).close();
        }
      });
      page.off('request', onRequest);
      ws.close();
    }
    expect(early).toEqual([]);
    // The sessions' requests went over this transport, and to both workers' slots.
    const slots = new Set(sessionUrls.map((p) => slotOf(sessionIdOf(p) ?? '', 2)));
    if (transport !== 'websocket') expect(slots).toEqual(new Set([0, 1]));
  }, 120_000);
});
