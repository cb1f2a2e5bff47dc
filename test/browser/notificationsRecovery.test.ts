// The notification stream page recovering across a server restart, in headless
// Chromium against a real server process on a real Redis: the process is
// stopped (SIGTERM, as a deploy does) while messages are published with
// history straight on Redis, and started again on the same port; the page's
// native EventSource comes back by itself with Last-Event-ID and shows exactly
// what it missed, once each, in order, then live ones, and says it resumed —
// or, when the channel's history was lost meanwhile, says which channel it
// could not catch up on and that the page should be reloaded. Behind a proxy
// that answers 502 while the server is down, EventSource gives up, and the
// page's new one carries the position in `?lastEventId=`.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { publish } from '../../src/index.js';
import { historyKeys } from '../../src/sources/channelHistory.js';
import { launchBrowser } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import { NOTIFICATIONS_PAGE_TEXT, expectContrast } from '../support/contrast.js';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const KEY = 'browser-notify-key-0123';
const WAIT = { timeout: 15_000 };
let redis: TestRedis;
let cli: Redis;
let server: ServerProcess | undefined;
let port = 0;
let browser: TestBrowser;
const pages: Page[] = [];
const pageErrors: string[] = [];

/** A notification stream request the browser made: its URL and the Last-Event-ID it sent. */
interface StreamRequest {
  readonly url: string;
  readonly lastEventId: string | null;
}
const streamRequests: Promise<StreamRequest>[] = [];

async function serve(): Promise<void> {
  server = await startServerProcess({
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
    REDIS_URL: redis.url,
    NODE_NAME: 'browser-notify-recovery',
    PROTOCOLS: 'notifications',
    PUBLISH_API_KEY: KEY,
  });
  port = server.port;
}

/** Stops the server (SIGTERM), runs `meanwhile` once the page knows, and starts it on the same port. */
async function restart(page: Page, meanwhile: () => Promise<void>): Promise<void> {
  server?.child.kill('SIGTERM');
  expect(await server?.exited()).toEqual({ code: 0, signal: null });
  await stateIs(page, 'reconnecting');
  await meanwhile();
  await serve();
}

const note = (room: string, text: string) => ({ type: 'message', room, text });

const publishApi = async (channel: string, data: unknown): Promise<void> => {
  const res = await fetch(`http://127.0.0.1:${port}/api/publish`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ channel, data }),
  });
  expect(res.status).toBe(200);
};

const until = (page: Page, expression: string) => page.waitForFunction(expression, undefined, WAIT);
const stateIs = (page: Page, state: string) =>
  until(page, `document.getElementById('status').dataset.state === ${JSON.stringify(state)}`);
/** Waits for the page to say how it came back, and checks it is `kind` (saying what it was if not). */
async function recoveryIs(page: Page, kind: string): Promise<void> {
  await until(page, `document.getElementById('recovery').dataset.kind !== ''`);
  const shown = await page.evaluate<{ kind: string; text: string }>(
    `({ kind: document.getElementById('recovery').dataset.kind, text: document.getElementById('recovery').textContent })`,
  );
  expect(shown.kind, shown.text).toBe(kind);
}
const untilNotes = (page: Page, count: number) =>
  until(page, `document.querySelectorAll('#notes .note').length >= ${count}`);
/** The notes' texts, oldest first. */
const notesOf = async (page: Page) =>
  (
    await page.evaluate<string[]>(
      `[...document.querySelectorAll('#notes .note-text')].map((e) => e.textContent)`,
    )
  ).reverse();
/** The id of the last event the page's EventSource received (recorded by the init script). */
const lastIdOf = (page: Page) => page.evaluate<string>('window.lastEventIds.at(-1)');

/** A page on the notification stream of `user`, whose set holds its own channel and `room`. */
async function userPage(user: string, room: string): Promise<Page> {
  await cli.del(`user:${user}:channels`);
  await cli.sadd(`user:${user}:channels`, `user:${user}`, room);
  const page = await browser.newPage();
  pages.push(page);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`http://127.0.0.1:${port}/examples/notifications.html?user=${user}`);
  await stateIs(page, 'ok');
  return page;
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  redis = await startRedis();
  cli = redis.client();
  await serve();
  // Listening comes before Redis is ready; a stream opened in between gets `error`.
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok);
    if (ready) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  browser = await launchBrowser({ viewport: { width: 1100, height: 820 } });
  // The id of every event the page's EventSources receive, to compare with what they send back.
  await browser.context.addInitScript(`(() => {
    const Native = window.EventSource;
    window.lastEventIds = [];
    window.eventSources = [];
    window.EventSource = class extends Native {
      constructor(...args) {
        super(...args);
        window.eventSources.push(this);
        const seen = (e) => {
          if (e.lastEventId) window.lastEventIds.push(e.lastEventId);
        };
        this.addEventListener('message', seen);
        this.addEventListener('unrecovered', seen);
      }
    };
  })()`);
  browser.context.on('request', (r) => {
    if (r.resourceType() !== 'eventsource') return;
    streamRequests.push(
      r.allHeaders().then((h) => ({ url: r.url(), lastEventId: h['last-event-id'] ?? null })),
    );
  });
}, 60_000);

afterEach(async () => {
  for (const page of pages.splice(0)) await page.close();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await redis?.stop();
});

it('comes back after a restart by itself with exactly the messages it missed, in order, then live ones', async () => {
  const page = await userPage('b1', 'room:b1');
  for (const text of ['one', 'two', 'three']) await publishApi('room:b1', note('room:b1', text));
  await untilNotes(page, 3);
  const lastId = await lastIdOf(page);
  expect(lastId).toMatch(/^p1\./);
  const before = streamRequests.length;

  const missed = ['four', 'five', 'six', 'seven', 'eight'];
  await restart(page, async () => {
    for (const text of missed) await publish(cli, 'room:b1', note('room:b1', text));
  });
  await stateIs(page, 'ok');
  await recoveryIs(page, 'resumed');
  expect(await page.textContent('#recovery-text')).toBe(
    'Back — nothing missed. The stream resumed where it left off: 5 notes caught up.',
  );
  await expectContrast(page, NOTIFICATIONS_PAGE_TEXT);
  await page.screenshot({ path: `${ARTIFACTS}notifications-resumed.png`, fullPage: true });
  await publishApi('room:b1', note('room:b1', 'live'));
  await untilNotes(page, 9);

  expect(await notesOf(page)).toEqual(['one', 'two', 'three', ...missed, 'live']);
  expect(await page.textContent('#message-count')).toBe('9');
  // The browser came back by itself (the page made no new EventSource, so no
  // ?lastEventId=), sending its last id; only the request that reached the
  // server shows the headers it sent (the refused ones show what Chromium had then).
  const reconnects = await Promise.all(streamRequests.slice(before));
  expect(reconnects.map((r) => r.url)).toEqual(
    reconnects.map(() => `http://127.0.0.1:${port}/?user=b1`),
  );
  expect(reconnects.at(-1)?.lastEventId).toBe(lastId);
  expect(await page.isVisible('#notice')).toBe(false);
  expect(pageErrors).toEqual([]);
}, 60_000);

it('says which channel it could not catch up on, and to reload, when the history was lost meanwhile', async () => {
  const page = await userPage('b2', 'room:b2');
  for (const text of ['one', 'two']) await publishApi('room:b2', note('room:b2', text));
  await untilNotes(page, 2);

  await restart(page, async () => {
    for (const text of ['three', 'four']) await publish(cli, 'room:b2', note('room:b2', text));
    // The channel's meta hash gone (flushed, expired): its history has a new epoch.
    await cli.del(historyKeys('room:b2').meta);
  });
  await recoveryIs(page, 'unrecovered');
  expect(await page.textContent('#recovery-text')).toBe(
    'Some notifications may be missing. While the page was away, messages on channel room:b2 could not be caught up on, so the list below may have a gap. Reload the page to start again from what is current.',
  );
  expect(await page.textContent('#recovery-reason')).toMatch(/^Server: what these channels missed/);
  expect(await page.isVisible('#reload')).toBe(true);
  expect(await page.textContent('#state-text')).toBe('OK · live');
  await expectContrast(page, NOTIFICATIONS_PAGE_TEXT);
  await page.screenshot({ path: `${ARTIFACTS}notifications-unrecovered.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: `${ARTIFACTS}notifications-unrecovered-dark.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: null });

  // Nothing replayed; live from now on, and the notice stays until the page is reloaded.
  await publishApi('room:b2', note('room:b2', 'live'));
  await untilNotes(page, 3);
  expect(await notesOf(page)).toEqual(['one', 'two', 'live']);
  expect(await page.evaluate(`document.getElementById('recovery').dataset.kind`)).toBe(
    'unrecovered',
  );
  const reloaded = page.waitForEvent('load');
  await page.click('#reload');
  await reloaded;
  await stateIs(page, 'ok');
  expect(await page.isVisible('#recovery')).toBe(false);
  expect(await page.locator('#notes .note').count()).toBe(0);
  expect(pageErrors).toEqual([]);
}, 60_000);

it('comes back with ?lastEventId= when a proxy answering 502 made the browser give up', async () => {
  const page = await userPage('b3', 'room:b3');
  for (const text of ['one', 'two']) await publishApi('room:b3', note('room:b3', text));
  await untilNotes(page, 2);
  const lastId = await lastIdOf(page);
  const before = streamRequests.length;

  await restart(page, async () => {
    // What nginx says while its upstream is down: EventSource closes for good on it.
    const proxy = createServer((_req, res) => res.writeHead(502).end('Bad Gateway'));
    await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
    await until(page, 'window.eventSources.at(-1)?.readyState === EventSource.CLOSED');
    await new Promise((r) => proxy.close(r));
    for (const text of ['three', 'four', 'five'])
      await publish(cli, 'room:b3', note('room:b3', text));
  });
  await stateIs(page, 'ok');
  await recoveryIs(page, 'resumed');
  expect(await page.textContent('#recovery-text')).toBe(
    'Back — nothing missed. The stream resumed where it left off: 3 notes caught up.',
  );
  await publishApi('room:b3', note('room:b3', 'live'));
  await untilNotes(page, 6);
  expect(await notesOf(page)).toEqual(['one', 'two', 'three', 'four', 'five', 'live']);
  // The native reconnect that met the 502, then the page's own EventSource with the position.
  const urls = (await Promise.all(streamRequests.slice(before))).map((r) => r.url);
  expect(urls[0]).toBe(`http://127.0.0.1:${port}/?user=b3`);
  const resumeUrl = `http://127.0.0.1:${port}/?user=b3&lastEventId=${encodeURIComponent(lastId)}`;
  expect(urls.at(-1)).toBe(resumeUrl);
  expect(pageErrors).toEqual([]);
}, 60_000);
