// Every SockJS transport Chromium can run, against `/pubsub/` on a real Redis:
// from the server's own pages and from another site's page that ALLOWED_ORIGINS
// lets in (where sockjs-client needs its iframe transports), with nothing
// fetched from anywhere but the two sites — the iframe's sockjs-client comes
// from the server. A site that is not allowed is refused with a 403 that its
// page can read (the body names ALLOWED_ORIGINS and the origin), not a CORS error.
import type { ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { launchBrowser } from '../support/browser.js';
import type { PageSockJs } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import { startPageServer } from '../support/pageServer.js';
import type { PageServer } from '../support/pageServer.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { isControl, isMessage, openWs } from '../support/ws.js';

const WAIT = { timeout: 15_000 };
let redis: TestRedis;
let app: TestApp;
/** A site ALLOWED_ORIGINS names, and one it does not. */
let site: PageServer;
let stranger: PageServer;
let browser: TestBrowser;
const requested: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  [site, stranger] = await Promise.all([startPageServer(), startPageServer()]);
  app = await startApp({ redisUrl: redis.url, env: { ALLOWED_ORIGINS: site.origin } });
  // Another site's page, with the server's copy of sockjs-client.
  const page = `<!DOCTYPE html><title>app</title><script src="${app.url}/pubsub/sockjs.min.js"></script>`;
  site.page('/app.html', page);
  stranger.page('/app.html', page);
  browser = await launchBrowser();
  // Every request of every page and frame.
  browser.context.on('request', (r) => requested.push(r.url()));
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await Promise.all([site?.close(), stranger?.close()]);
  await redis?.stop();
});

/** Opens a SockJS client on one transport in the page; it lands in window.sock, its frames in window.frames_. */
function openSockJs(page: Page, transport: string): Promise<string> {
  return page.evaluate(
    ([url, t]) =>
      new Promise<string>((resolve, reject) => {
        const w = globalThis as unknown as Record<string, unknown>;
        const SockJS = w.SockJS as PageSockJs;
        const sock = new SockJS(url as string, null, { transports: [t as string] });
        const frames: unknown[] = [];
        w.sock = sock;
        w.frames_ = frames;
        sock.onopen = () => resolve(sock.transport);
        sock.onclose = (e) => reject(new Error(`closed ${e.code} ${e.reason}`));
        sock.onmessage = (e) => frames.push(JSON.parse(e.data));
      }),
    [`${app.url}/pubsub`, transport],
  );
}

const send = (page: Page, frame: unknown) =>
  page.evaluate((f) => {
    (globalThis as unknown as { sock: { send(d: string): void } }).sock.send(f);
  }, JSON.stringify(frame));

/** Waits for a frame with every field of `want`. */
const waitFor = (page: Page, want: Record<string, unknown>) =>
  page.waitForFunction(
    (j) => {
      const fields = Object.entries(JSON.parse(j) as Record<string, unknown>);
      return ((globalThis as unknown as { frames_: unknown[] }).frames_ ?? []).some(
        (f) =>
          typeof f === 'object' &&
          f !== null &&
          fields.every(
            ([k, v]) => JSON.stringify((f as Record<string, unknown>)[k]) === JSON.stringify(v),
          ),
      );
    },
    JSON.stringify(want),
    WAIT,
  );

// htmlfile runs on the server's own pages only (sockjs-client wraps it in its iframe for other sites);
// the xdr transports are Internet Explorer's.
const TRANSPORTS = [
  'websocket',
  'xhr-streaming',
  'eventsource',
  'iframe-eventsource',
  'htmlfile',
  'iframe-htmlfile',
  'xhr-polling',
  'iframe-xhr-polling',
  'jsonp-polling',
];
const CASES = [
  ...TRANSPORTS.map((t) => ['the server’s own page', t] as const),
  ...TRANSPORTS.filter((t) => t !== 'htmlfile').map((t) => ['an allowed site’s page', t] as const),
];

describe.each(CASES)('sockjs-client on %s over %s', (where, transport) => {
  it('subscribes, gets what Redis carries, and publishes', async () => {
    const page = await browser.newPage();
    if (where === 'an allowed site’s page') await page.goto(`${site.origin}/app.html`);
    else {
      // Any page of the server's origin, with its copy of sockjs-client.
      await page.goto(`${app.url}/clients/pubsub.js`);
      await page.addScriptTag({ url: '/pubsub/sockjs.min.js' });
    }
    expect(await openSockJs(page, transport)).toBe(transport);

    const channel = `t.${transport}.${where.length}`;
    await send(page, { action: 'subscribe', payload: { channel } });
    await waitFor(page, { controlMessage: true, content: `Subscribed to ${channel}` });
    const cli = redis.client();
    await cli.publish(`pubsub:${channel}`, JSON.stringify({ from: 'redis' }));
    await waitFor(page, { channel, message: { from: 'redis' } });

    const ws = await openWs(`ws://127.0.0.1:${app.port}/pubsub`);
    ws.send({ action: 'subscribe', payload: { channel } });
    await ws.next(isControl(`Subscribed to ${channel}`));
    await send(page, { action: 'publish', payload: { channel, message: { from: transport } } });
    await ws.next(isMessage(channel, { from: transport }));
    ws.close();
    await page.close();
  });
});

describe('what the pages fetched', () => {
  it('came from the two sites only, the iframe’s sockjs-client from the server', () => {
    const origins = new Set(requested.map((u) => new URL(u).origin));
    const streamer = new URL(app.url).origin;
    expect([...origins].filter((o) => o !== site.origin && o !== streamer)).toEqual([]);
    expect(requested).toContain(`${app.url}/pubsub/sockjs.min.js`);
    expect(requested.some((u) => u.startsWith(`${app.url}/pubsub/iframe.html`))).toBe(true);
  });
});

describe('a site that ALLOWED_ORIGINS does not name', () => {
  let page: Page;
  const logged: string[] = [];

  beforeAll(async () => {
    page = await browser.newPage();
    page.on('console', (m: ConsoleMessage) => logged.push(m.text()));
    await page.goto(`${stranger.origin}/app.html`);
  });

  it('is answered 403 with the origin echoed, once, and no wildcard', async () => {
    const res = await fetch(`${app.url}/pubsub/info`, { headers: { Origin: stranger.origin } });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBe(stranger.origin);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('vary')).toMatch(/Origin/);
    // Allowed pages get sockjs's own answer, which echoes theirs too.
    const allowed = await fetch(`${app.url}/pubsub/info`, { headers: { Origin: site.origin } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(site.origin);
  });

  it('can read why, with credentials as sockjs-client asks and without', async () => {
    const read = await page.evaluate(async (url) => {
      const withCookies = await fetch(url, { credentials: 'include' });
      const without = await fetch(url, { credentials: 'omit' });
      const Xhr = (globalThis as unknown as Record<string, unknown>).XMLHttpRequest as new () => {
        open(method: string, url: string): void;
        withCredentials: boolean;
        onloadend: () => void;
        status: number;
        responseText: string;
        send(): void;
      };
      const xhr = await new Promise<{ status: number; text: string }>((resolve) => {
        const x = new Xhr();
        x.open('GET', url);
        x.withCredentials = true;
        x.onloadend = () => resolve({ status: x.status, text: x.responseText });
        x.send();
      });
      return {
        withCookies: { status: withCookies.status, body: await withCookies.text() },
        without: { status: without.status, body: await without.text() },
        xhr: { status: xhr.status, body: xhr.text },
      };
    }, `${app.url}/pubsub/info`);
    for (const { status, body } of Object.values(read)) {
      expect(status).toBe(403);
      const error = JSON.parse(body) as { code: string; message: string };
      expect(error.code).toBe('RXS_ERR_FORBIDDEN');
      expect(error.message).toContain(stranger.origin);
      expect(error.message).toContain('ALLOWED_ORIGINS');
    }
  });

  it('sees a 403, not a CORS error, when sockjs-client is refused', async () => {
    logged.length = 0;
    const closed = await page.evaluate(
      (url) =>
        new Promise<number>((resolve) => {
          const SockJS = (globalThis as unknown as Record<string, unknown>).SockJS as new (
            url: string,
          ) => { onclose: (e: { code: number }) => void };
          new SockJS(url).onclose = (e) => resolve(e.code);
        }),
      `${app.url}/pubsub`,
    );
    expect(closed).toBeGreaterThanOrEqual(1000);
    expect(logged.some((text) => /\b403\b/.test(text))).toBe(true);
    expect(logged.filter((text) => /CORS/i.test(text))).toEqual([]);
  });

  it('has its WebSocket handshake refused with 403', async () => {
    logged.length = 0;
    const failed = await page.evaluate(
      (url) =>
        new Promise<boolean>((resolve) => {
          const ws = new WebSocket(url);
          ws.onopen = () => resolve(false);
          ws.onerror = () => resolve(true);
        }),
      `ws://127.0.0.1:${app.port}/pubsub`,
    );
    expect(failed).toBe(true);
    // What Chromium tells the developer; a page's script is never shown a handshake's answer.
    await expect.poll(() => logged.join('\n')).toMatch(/Unexpected response code: 403/);
  });
});
