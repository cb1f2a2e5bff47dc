// Realtime-magic's clients speak SockJS: the real sockjs-client in Chromium
// against `/pubsub/`, over WebSocket and over HTTP fallbacks forced by its
// `transports` option, with a plain WebSocket client on the other side.
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pubsubProtocol } from '../../src/protocols/pubsub/index.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { launchBrowser } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import { getJson } from '../support/sse.js';
import type { StatusDocument } from '../support/status.js';
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
  app = await startApp({ source: new MemoryBus(), protocols: [pubsub] });
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
async function openSockJs(name: string, transport: string, query = ''): Promise<void> {
  await page.evaluate(
    ([n, t, url]) =>
      new Promise<void>((resolve, reject) => {
        const w = globalThis as unknown as Record<string, unknown>;
        const SockJS = w.SockJS as new (
          url: string,
          _: null,
          options: { transports: string[] },
        ) => {
          onopen: () => void;
          onmessage: (e: { data: string }) => void;
          onclose: (e: { code: number }) => void;
          send(data: string): void;
          transport: string;
        };
        const sock = new SockJS(url as string, null, { transports: [t as string] });
        const frames: unknown[] = [];
        w[`frames_${n as string}`] = frames;
        w[`sock_${n as string}`] = sock;
        sock.onopen = () => resolve();
        sock.onclose = (e) => reject(new Error(`closed ${e.code}`));
        sock.onmessage = (e) => frames.push(JSON.parse(e.data));
      }),
    [name, transport, `${app.url}/pubsub${query}`],
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

const waitFor = (name: string, json: string) =>
  page.waitForFunction(
    ([n, j]) =>
      ((globalThis as unknown as Record<string, unknown[]>)[`frames_${n}`] ?? []).some(
        (f) => JSON.stringify(f) === j,
      ),
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
    const { body } = await getJson<StatusDocument>(`${app.url}/admin/status.json`);
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
