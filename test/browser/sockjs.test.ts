// Realtime-magic's clients speak SockJS: the real sockjs-client in Chromium
// against `/pubsub/`, over WebSocket and over HTTP fallbacks forced by its
// `transports` option, with a plain WebSocket client on the other side. Every
// WebSocket endpoint is served over SockJS too: site streams at `/datastream/`,
// with their `?site=` (and `lastEventId=`) reaching the protocol on every transport.
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datastreamProtocol } from '../../src/protocols/datastream/index.js';
import { pubsubProtocol } from '../../src/protocols/pubsub/index.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { launchBrowser } from '../support/browser.js';
import type { PageSockJs } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import { ADMIN_TOKEN, adminStatus } from '../support/status.js';
import { isMessage, openWs } from '../support/ws.js';

const SOCKJS_CLIENT = createRequire(import.meta.url).resolve('sockjs-client/dist/sockjs.min.js');
const WAIT = { timeout: 10_000 };
let app: TestApp;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  // An authenticator reading the query, as one checking a token would.
  const pubsub = pubsubProtocol({
    authenticators: [
      { channels: 'q.*', check: ({ client }) => client.request.query.get('k') === 'v' },
    ],
  });
  app = await startApp({
    source: new MemoryBus(),
    protocols: [pubsub, datastreamProtocol()],
    env: { ADMIN_TOKEN },
  });
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.goto(`${app.url}/examples/chat.html`);
  await page.addScriptTag({ path: SOCKJS_CLIENT });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Opens a SockJS client in the page on one transport; its frames land in window.frames_<name>. */
async function openSockJs(
  name: string,
  transport: string,
  query = '',
  path = '/pubsub',
): Promise<void> {
  await page.evaluate(
    ([n, t, url]) =>
      new Promise<void>((resolve, reject) => {
        const w = globalThis as unknown as Record<string, unknown>;
        const SockJS = w.SockJS as PageSockJs;
        const sock = new SockJS(url as string, null, { transports: [t as string] });
        const frames: unknown[] = [];
        w[`frames_${n as string}`] = frames;
        w[`sock_${n as string}`] = sock;
        sock.onopen = () => resolve();
        sock.onclose = (e) => {
          w[`closed_${n as string}`] = e;
          reject(new Error(`closed ${e.code}`));
        };
        sock.onmessage = (e) => frames.push(JSON.parse(e.data));
      }),
    [name, transport, `${app.url}${path}${query}`],
  );
}

const send = (name: string, frame: unknown) =>
  page.evaluate(
    ([n, f]) => {
      const sock = (globalThis as unknown as Record<string, { send(d: string): void }>)[
        `sock_${n}`
      ];
      sock?.send(f);
    },
    [name, JSON.stringify(frame)] as const,
  );

/** Closes a page's SockJS client: the browser has six connections a host, and streams hold one. */
const closeSock = (name: string) =>
  page.evaluate((n) => {
    (globalThis as unknown as Record<string, { close(): void }>)[`sock_${n}`]?.close();
  }, name);

/**
 * Waits for a frame with every field of `json` (an object's JSON): frames may
 * carry more, such as a subscribe's position or a message's offset.
 */
const waitFor = (name: string, json: string) =>
  page.waitForFunction(
    ([n, j]) => {
      const want = JSON.parse(j) as Record<string, unknown>;
      return ((globalThis as unknown as Record<string, unknown[]>)[`frames_${n}`] ?? []).some(
        (f) =>
          typeof f === 'object' &&
          f !== null &&
          Object.entries(want).every(
            ([k, v]) => JSON.stringify((f as Record<string, unknown>)[k]) === JSON.stringify(v),
          ) &&
          ('error' in want || !('error' in f)),
      );
    },
    [name, json] as const,
    WAIT,
  );

describe.each([
  ['websocket', 'websocket'],
  ['xhr-streaming', 'xhr_streaming'],
  ['xhr-polling', 'xhr'],
])('sockjs-client over %s', (transport, urlPart) => {
  it('subscribes, receives what a WebSocket client publishes, and publishes back', async () => {
    const name = urlPart;
    const requests: string[] = [];
    const onRequest = (r: { url(): string }) => requests.push(r.url());
    page.on('request', onRequest);
    await openSockJs(name, transport);
    await send(name, { action: 'subscribe', payload: { channel: `sock.${name}` } });
    await waitFor(
      name,
      JSON.stringify({ controlMessage: true, content: `Subscribed to sock.${name}` }),
    );

    const ws = await openWs(`ws://127.0.0.1:${app.port}/pubsub`);
    ws.send({ action: 'subscribe', payload: { channel: `sock.${name}` } });
    await ws.next((f) => (f as { content?: string }).content === `Subscribed to sock.${name}`);
    ws.send({ action: 'publish', payload: { channel: `sock.${name}`, message: { from: 'ws' } } });
    await waitFor(name, JSON.stringify({ channel: `sock.${name}`, message: { from: 'ws' } }));
    await send(name, {
      action: 'publish',
      payload: { channel: `sock.${name}`, message: { from: 'sockjs' } },
    });
    await ws.next(isMessage(`sock.${name}`, { from: 'sockjs' }));
    ws.close();
    page.off('request', onRequest);

    // It really went over that transport.
    if (transport !== 'websocket')
      expect(requests.some((u) => u.includes(`/${urlPart}`))).toBe(true);
    const body = await adminStatus(app.url);
    expect(
      body.connections.some((c) =>
        JSON.stringify((c as { channels?: unknown }).channels ?? []).includes(`sock.${name}`),
      ),
    ).toBe(true);
  });
});

describe.each(['websocket', 'xhr-polling'])('a SockJS client over %s', (transport) => {
  it("carries its URL's query to the authenticators", async () => {
    const [good, bad] = [`q_good_${transport}`, `q_bad_${transport}`];
    await openSockJs(good, transport, '?k=v');
    await openSockJs(bad, transport, '?k=w');
    await send(good, { action: 'subscribe', payload: { channel: 'q.1' } });
    await send(bad, { action: 'subscribe', payload: { channel: 'q.1' } });
    await waitFor(good, JSON.stringify({ controlMessage: true, content: 'Subscribed to q.1' }));
    await waitFor(
      bad,
      JSON.stringify({
        controlMessage: true,
        error: true,
        content: 'not allowed to subscribe q.1',
      }),
    );
  });
});

describe.each([
  ['websocket', 'websocket'],
  ['xhr-streaming', 'xhr_streaming'],
  ['xhr-polling', 'xhr'],
])('site streams over sockjs-client on %s', (transport, urlPart) => {
  it("gets its site's messages, and switches site", async () => {
    const name = `site_${urlPart}`;
    const [site, next] = [`s-${urlPart}`, `n-${urlPart}`];
    await openSockJs(name, transport, `?site=${site}`, '/datastream');
    await waitFor(
      name,
      JSON.stringify({ controlMessage: true, content: `Subscribed to site ${site}` }),
    );
    /** Enqueues a message; its entry id. */
    const enqueue = async (to: string, n: number) => {
      const res = await fetch(`${app.url}/datastream/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ site: to, topic: 'weather', data: { n } }),
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    const one = await enqueue(site, 1);
    await waitFor(name, JSON.stringify({ site, topic: 'weather', data: { n: 1 }, id: one }));
    await send(name, { action: 'updatesubscribersite', site: next });
    await waitFor(
      name,
      JSON.stringify({ controlMessage: true, content: `Subscribed to site ${next}` }),
    );
    const two = await enqueue(next, 2);
    await waitFor(name, JSON.stringify({ site: next, topic: 'weather', data: { n: 2 }, id: two }));
    await closeSock(name);

    // Back with the last id it got: what was enqueued meanwhile comes first.
    const three = await enqueue(next, 3);
    const again = `${name}_again`;
    await openSockJs(again, transport, `?site=${next}&lastEventId=${two}`, '/datastream');
    await waitFor(
      again,
      JSON.stringify({
        controlMessage: true,
        content: `Subscribed to site ${next}`,
        recovered: true,
      }),
    );
    await waitFor(
      again,
      JSON.stringify({ site: next, topic: 'weather', data: { n: 3 }, id: three }),
    );
    await closeSock(again);
  });

  it('is closed with 4400 and the reason without a site', async () => {
    const name = `nosite_${urlPart}`;
    // It opens (SockJS answers before the protocol sees a session) and is closed at once.
    await openSockJs(name, transport, '', '/datastream').catch(() => undefined);
    const closed = await page.waitForFunction(
      (n) => {
        const e = (globalThis as unknown as Record<string, { code: number; reason: string }>)[
          `closed_${n}`
        ];
        return e && { code: e.code, reason: e.reason };
      },
      name,
      WAIT,
    );
    expect(await closed.jsonValue()).toEqual({
      code: 4400,
      reason: '?site=<site> is required: site must be a non-empty string',
    });
  });
});
