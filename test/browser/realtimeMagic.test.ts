// realtime-magic's own page code, from its README, in Chromium on another
// site's page (as its apps were: the page from the app, the endpoint from the
// realtime server) with /clients/realtime-magic.js instead of the original
// client, against `/pubsub/` on a real Redis: it connects over SockJS, gets
// each message bare as the original did, and publishes; with the page's own
// sockjs-client, or with none (the client then loads the server's copy).
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { launchBrowser } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import { startPageServer } from '../support/pageServer.js';
import type { PageServer } from '../support/pageServer.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { isControl, isMessage, openWs } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

const WAIT = { timeout: 15_000 };
let redis: TestRedis;
let app: TestApp;
let site: PageServer;
let browser: TestBrowser;

/** The README's page code, as it stands, its endpoint template filled in. */
const readmeCode = (endpoint: string) => `
  var client = new realtimeMagic.Client('${endpoint}/pubsub/');

   client.onopen = function() {
       console.log('open');
       client.subscribe('the_channel');
   };
   client.onmessage = function(message) {
       console.log('received: ', message);
   };
   client.onclose = function() {
       console.log('close');
   };

   client.publish("the_channel", "I'm new to this channel");
`;

/** A page of the app; what its console.log was given is kept in window.logged. */
const appPage = (endpoint: string, withSockJs: boolean) => `<!DOCTYPE html>
<title>realtime-magic</title>
<script>
  window.logged = [];
  const log = console.log.bind(console);
  console.log = (...args) => { window.logged.push(args); log(...args); };
</script>
${withSockJs ? `<script src="${endpoint}/pubsub/sockjs.min.js"></script>` : ''}
<script src="${endpoint}/clients/realtime-magic.js"></script>
<script>${readmeCode(endpoint)}</script>`;

beforeAll(async () => {
  redis = await startRedis();
  site = await startPageServer();
  app = await startApp({ redisUrl: redis.url, env: { ALLOWED_ORIGINS: site.origin } });
  site.page('/with-sockjs.html', appPage(app.url, true));
  site.page('/without-sockjs.html', appPage(app.url, false));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await site?.close();
  await redis?.stop();
});

/** Waits until console.log was given exactly `args`. */
const logged = (page: Page, ...args: unknown[]) =>
  page.waitForFunction(
    (want) =>
      (globalThis as unknown as { logged: unknown[][] }).logged.some(
        (a) => JSON.stringify(a) === want,
      ),
    JSON.stringify(args),
    WAIT,
  );

describe.each([
  ['its own sockjs-client', 'with-sockjs'],
  ['no sockjs-client', 'without-sockjs'],
])('the README page with %s', (_, name) => {
  let page: Page;
  let ws: WsClient;
  const errors: string[] = [];
  const requested: string[] = [];
  const sockets: string[] = [];

  beforeAll(async () => {
    // Someone already on the channel, to see what the page publishes before it is open.
    ws = await openWs(`ws://127.0.0.1:${app.port}/pubsub`);
    ws.send({ action: 'subscribe', payload: { channel: 'the_channel' } });
    await ws.next(isControl('Subscribed to the_channel'));
    page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requested.push(r.url()));
    page.on('websocket', (s) => sockets.push(s.url()));
    await page.goto(`${site.origin}/${name}.html`);
  });

  afterAll(async () => {
    ws?.close();
    await page?.close();
  });

  it('opens over SockJS, subscribes, and sends what it published before it was open', async () => {
    await logged(page, 'open');
    await ws.next(isMessage('the_channel', "I'm new to this channel"));
    // SockJS's handshake, then its WebSocket transport.
    expect(requested.some((u) => u.startsWith(`${app.url}/pubsub/info`))).toBe(true);
    expect(sockets.some((u) => /\/pubsub\/[^/]+\/[^/]+\/websocket$/.test(u))).toBe(true);
    expect(requested.includes(`${app.url}/pubsub/sockjs.min.js`)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('gets each message bare, as published: from the console, a WebSocket client, Redis', async () => {
    // The README's next step, in the browser's console.
    await page.evaluate(`client.publish('the_channel', 'hello from the console')`);
    await logged(page, 'received: ', 'hello from the console');
    ws.send({ action: 'publish', payload: { channel: 'the_channel', message: { text: 'hi' } } });
    await logged(page, 'received: ', { text: 'hi' });
    await redis.client().publish('pubsub:the_channel', '[1,"two"]');
    await logged(page, 'received: ', [1, 'two']);
    // The control replies are not messages.
    const all = await page.evaluate(() => (globalThis as unknown as { logged: unknown }).logged);
    expect(JSON.stringify(all)).not.toContain('controlMessage');
  });

  it('subscribes once however often it is asked, and unsubscribes', async () => {
    await page.evaluate(`client.subscribe('the_channel'); client.subscribe('other')`);
    ws.send({ action: 'subscribe', payload: { channel: 'other' } });
    await ws.next(isControl('Subscribed to other'));
    await page.evaluate(`client.publish('other', 'ready')`);
    await logged(page, 'received: ', 'ready');
    ws.send({ action: 'publish', payload: { channel: 'the_channel', message: 'once' } });
    await ws.next(isMessage('the_channel', 'once'));

    await page.evaluate(`client.unsubscribe('the_channel')`);
    ws.send({ action: 'publish', payload: { channel: 'the_channel', message: 'gone' } });
    await ws.next(isMessage('the_channel', 'gone'));
    ws.send({ action: 'publish', payload: { channel: 'other', message: 'after' } });
    await logged(page, 'received: ', 'after');
    const all = await page.evaluate(() => (globalThis as unknown as { logged: unknown }).logged);
    expect(JSON.stringify(all).split('"once"').length - 1).toBe(1);
    expect(JSON.stringify(all)).not.toContain('"gone"');
  });

  it('calls onclose when it is closed', async () => {
    await page.evaluate(`client.close()`);
    await logged(page, 'close');
    expect(errors).toEqual([]);
  });
});

describe("the original client's frames", () => {
  it('subscribe and unsubscribe with the channel bare', async () => {
    const ws = await openWs(`ws://127.0.0.1:${app.port}/pubsub`);
    ws.send({ action: 'subscribe', payload: 'bare.channel' });
    await ws.next(isControl('Subscribed to bare.channel'));
    ws.send({ action: 'publish', payload: { channel: 'bare.channel', message: 1 } });
    await ws.next(isMessage('bare.channel', 1));
    ws.send({ action: 'unsubscribe', payload: 'bare.channel' });
    await ws.next(isControl('Unsubscribed from bare.channel'));
    // A publish still needs its payload object.
    ws.send({ action: 'publish', payload: 'bare.channel' });
    await ws.next(isControl('publish needs a payload object', true));
    ws.close();
  });
});
