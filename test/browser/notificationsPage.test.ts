// The notification stream example page in headless Chromium against the server
// on a real socket, on the in-process bus: the test publishes the messages and
// changes the channel sets itself (the demo feeder's 3 s and 20 s would make it
// slow and racy), and makes the set store fail once to get an `error`.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStreamer } from '../../src/app.js';
import type { Streamer } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { builtInProtocols } from '../../src/protocols/builtInProtocols.js';
import { MemoryChannelSets } from '../../src/protocols/notifications/index.js';
import type { ChannelSetStore } from '../../src/protocols/notifications/index.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { launchBrowser } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import {
  NOTIFICATIONS_PAGE_TEXT,
  expectContrast as expectContrastOf,
} from '../support/contrast.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const WAIT = { timeout: 10_000 };
/** Longer than Chromium's default EventSource reconnection delay (3 s). */
const RECONNECT_WINDOW_MS = 4_000;

const bus = new MemoryBus();
const sets = new MemoryChannelSets();
/** Users whose next set read fails, as when Redis cannot be reached. */
const failNext = new Set<string>();
const store: ChannelSetStore = {
  members: (user) =>
    failNext.delete(user) ? Promise.reject(new Error('store down')) : sets.members(user),
};

let streamer: Streamer;
let origin = '';
let browser: TestBrowser;
let page: Page;
const pageErrors: string[] = [];
const consoleErrors: string[] = [];
/** Every notification stream request the browser made, by URL. */
const streamRequests: string[] = [];

const pageUrl = (query = '') => `${origin}/examples/notifications.html${query}`;
const inPage = <T>(p: Page, expression: string) => p.evaluate<T>(expression);
const until = (p: Page, expression: string, timeout = WAIT.timeout) =>
  p.waitForFunction(expression, undefined, { timeout });
const stateIs = (p: Page, state: string, timeout?: number) =>
  until(p, `document.getElementById('status').dataset.state === ${JSON.stringify(state)}`, timeout);
const noteTexts = (p: Page) =>
  inPage<string[]>(
    p,
    `[...document.querySelectorAll('#notes .note-text')].map((e) => e.textContent)`,
  );
const noteWith = (p: Page, text: string) =>
  until(
    p,
    `[...document.querySelectorAll('#notes .note-text')].some((e) => e.textContent.includes(${JSON.stringify(text)}))`,
  );
/** The page's EventSources that are not closed (recorded by the init script below). */
const openSources = (p: Page) =>
  inPage<number>(
    p,
    'window.eventSources.filter((s) => s.readyState !== EventSource.CLOSED).length',
  );
const expectContrast = (p: Page) => expectContrastOf(p, NOTIFICATIONS_PAGE_TEXT);
const failures = () => streamer.metrics.read().counters['notify.status.failure'] ?? 0;

const room = (name: string, text: string) =>
  bus.publish(name, JSON.stringify({ type: 'message', room: name, text }));

/** Moves the demo user from one room to another, then says so on its channel, as an app would. */
function moveRooms(leave: string, join: string): void {
  sets.remove('demo', leave);
  sets.add('demo', join);
  const rooms = ['room:1', 'room:2', 'room:3'].filter((r) => sets.has('demo', r));
  bus.publish('user:demo', JSON.stringify({ type: 'channels', rooms, joined: join, left: leave }));
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  sets.add('demo', 'user:demo', 'room:1', 'room:2');
  sets.add('alice', 'user:alice', 'room:1');
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    NOOP_MS: '300',
  });
  streamer = createStreamer({
    config,
    source: bus,
    protocols: builtInProtocols({ notifications: { store } }),
  });
  origin = `http://127.0.0.1:${(await streamer.listen()).port}`;
  browser = await launchBrowser();
  // Every EventSource the page makes, so the test can see whether it was closed.
  await browser.context.addInitScript(`(() => {
    const Native = window.EventSource;
    window.eventSources = [];
    window.EventSource = class extends Native {
      constructor(...args) {
        super(...args);
        window.eventSources.push(this);
      }
    };
  })()`);
  browser.context.on('request', (r) => {
    if (new URL(r.url()).searchParams.has('user') && r.resourceType() === 'eventsource')
      streamRequests.push(r.url());
  });
  page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await streamer?.close();
});

describe('the notification stream page', () => {
  it('opens the demo user by default and shows ok, counting noops without listing them', async () => {
    const res = await page.goto(pageUrl());
    expect(res?.status()).toBe(200);
    expect(await page.title()).toContain('notification stream');
    await stateIs(page, 'ok');
    expect(await page.textContent('#state-text')).toMatch(/^OK/);
    expect(await page.textContent('#user-shown')).toBe('demo');
    expect(await page.inputValue('#user')).toBe('demo');
    expect(await page.textContent('#stream-url')).toBe('/?user=demo');
    // The stream's URL is relative to the page's host.
    expect(streamRequests.at(-1)).toBe(`${origin}/?user=demo`);
    await until(page, `Number(document.getElementById('noop-count').textContent) >= 2`);
    expect(await page.textContent('#noop-last')).not.toBe('–');
    expect(await page.locator('#notes li').count()).toBe(0);
    expect(await page.textContent('footer')).toContain('Notification streams');
  });

  it("lists the messages of the user's rooms, newest first, and no others", async () => {
    room('room:3', 'NOT-MINE in room 3');
    room('room:1', 'FIRST in room 1');
    bus.publish('room:2', '<b id="injected">raw</b> & not JSON');
    room('room:2', 'LAST in room 2');
    await noteWith(page, 'LAST in room 2');
    expect(await noteTexts(page)).toEqual([
      'LAST in room 2',
      '<b id="injected">raw</b> & not JSON',
      'FIRST in room 1',
    ]);
    const first = page.locator('#notes li').first();
    expect(await first.getAttribute('data-kind')).toBe('message');
    expect(await first.locator('strong').textContent()).toBe('room:2');
    // Each carries its number (increasing as they arrive) and its time.
    const meta = await inPage<string[]>(
      page,
      `[...document.querySelectorAll('#notes .note-meta')].map((e) => e.textContent)`,
    );
    const ids = meta.map((m) => Number(/^#(\d+) · /.exec(m)?.[1]));
    expect(ids.every(Number.isInteger)).toBe(true);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(await page.locator('#notes time[datetime]').count()).toBe(3);
    // A payload that is not the demo's JSON is shown as text, never as markup.
    expect(await page.locator('#notes li').nth(1).getAttribute('data-kind')).toBe('raw');
    expect(await page.locator('#injected').count()).toBe(0);
    expect(await page.textContent('#message-count')).toBe('3');
  });

  it('shows a channel change with the current rooms, and follows it', async () => {
    expect(await page.isVisible('#rooms-empty')).toBe(true);
    moveRooms('room:2', 'room:3');
    await until(page, `document.querySelector('#notes li[data-kind="channels"]') !== null`);
    const change = page.locator('#notes li').first();
    expect(await change.getAttribute('data-kind')).toBe('channels');
    expect(await change.locator('.note-text').textContent()).toBe(
      'Joined room:3 · left room:2 · now in room:1, room:3',
    );
    expect(await page.locator('#rooms .chip').allTextContents()).toEqual(['room:1', 'room:3']);
    expect(await page.isVisible('#rooms-empty')).toBe(false);

    room('room:2', 'LEFT room 2');
    room('room:3', 'JOINED room 3');
    await noteWith(page, 'JOINED room 3');
    expect(await noteTexts(page)).not.toContain('LEFT room 2');
    await expectContrast(page);
    await page.setViewportSize({ width: 1100, height: 820 });
    await page.screenshot({ path: `${ARTIFACTS}notifications-page.png`, fullPage: true });
  });

  it('says "error · reconnecting" when the store fails, and is back by itself', async () => {
    const before = streamRequests.length;
    failNext.add('demo');
    moveRooms('room:3', 'room:2'); // the set is read again, and that read fails
    await stateIs(page, 'error');
    expect(await page.textContent('#state-text')).toBe('Error · reconnecting…');
    expect(await page.isVisible('#notice')).toBe(true);
    // The browser reconnects by itself, after the server's retry (1–5 s).
    await stateIs(page, 'ok', 10_000);
    expect(streamRequests.length).toBe(before + 1);
    expect(await page.isVisible('#notice')).toBe(false);
    // Back with its position, in a room it joined while away: it says so, and stays up.
    await until(page, `document.getElementById('recovery').dataset.kind === 'unrecovered'`);
    expect(await page.textContent('#recovery-text')).toContain(
      'messages on channel room:2 could not be caught up on',
    );
    expect(await page.isVisible('#reload')).toBe(true);
    await expectContrast(page);
    await page.click('#dismiss');
    expect(await page.isVisible('#recovery')).toBe(false);
    room('room:2', 'BACK in room 2');
    await noteWith(page, 'BACK in room 2');

    // Again, in the same rooms: resumed where it left off, said briefly.
    failNext.add('demo');
    bus.publish('user:demo', JSON.stringify({ type: 'rights' }));
    await stateIs(page, 'error');
    await stateIs(page, 'ok', 10_000);
    await until(page, `document.getElementById('recovery').dataset.kind === 'resumed'`);
    expect(await page.textContent('#recovery-text')).toBe(
      'Back — nothing missed. The stream resumed where it left off.',
    );
    expect(await page.isVisible('#reload')).toBe(false);
    await expectContrast(page);
  });

  it('shows failure for a bad user id, and closes its EventSource for good', async () => {
    const other = await browser.newPage();
    try {
      const failed = failures();
      const before = streamRequests.length;
      await other.goto(pageUrl('?user=bad!'));
      await stateIs(other, 'failure');
      expect(await other.textContent('#state-text')).toBe('Failure');
      expect(await other.isVisible('#notice')).toBe(true);
      expect(await openSources(other)).toBe(0);
      await expectContrast(other);
      await other.waitForTimeout(RECONNECT_WINDOW_MS);
      expect(streamRequests.slice(before)).toEqual([`${origin}/?user=bad%21`]);
      expect(failures()).toBe(failed + 1);
      expect(await other.getAttribute('#status', 'data-state')).toBe('failure');
    } finally {
      await other.close();
    }
  });

  it('switches user from the form, and passes a token through', async () => {
    await page.fill('#user', 'alice');
    await page.fill('#token', 'tok.en');
    await page.click('button[type="submit"]');
    await stateIs(page, 'ok');
    expect(new URL(page.url()).search).toBe('?user=alice&token=tok.en');
    expect(streamRequests.at(-1)).toBe(`${origin}/?user=alice&token=tok.en`);
    expect(await page.textContent('#user-shown')).toBe('alice');
    expect(await page.textContent('#stream-url')).not.toContain('tok.en');
    expect(await page.locator('#notes li').count()).toBe(0);
    // The earlier user's stream is closed; only alice's is open.
    expect(await openSources(page)).toBe(1);
    room('room:1', 'HELLO alice');
    await noteWith(page, 'HELLO alice');
  });

  it('shows disconnected when the set becomes empty, and does not reconnect', async () => {
    const before = streamRequests.length;
    sets.remove('alice', 'user:alice', 'room:1');
    room('room:1', 'LAST for alice');
    bus.publish('user:alice', JSON.stringify({ type: 'channels', rooms: [] }));
    await stateIs(page, 'disconnected');
    // What was published before the set emptied still arrives, before the status.
    await noteWith(page, 'LAST for alice');
    expect(await page.textContent('#state-text')).toBe('Disconnected');
    expect(await openSources(page)).toBe(0);
    await page.waitForTimeout(RECONNECT_WINDOW_MS);
    expect(streamRequests.length).toBe(before);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('says which message fills "Rooms", and fills it from that message for any user', async () => {
    sets.add('carol', 'user:carol', 'room:7');
    const own = await browser.newPage();
    try {
      await own.goto(pageUrl('?user=carol'));
      await stateIs(own, 'ok');
      // Before any: what it waits for, on which channel.
      expect(await own.textContent('#rooms-empty')).toBe(
        'None known yet: waiting for a {"type":"channels","rooms":[…]} message on user:carol.',
      );
      const hint = await own.textContent('#rooms-hint');
      expect(hint).toContain('{"type":"channels","rooms":["room:1","room:2"]}');
      expect(hint).toContain('user:<id>');
      expect(await own.isVisible('#rooms-hint')).toBe(true);
      // What an app server publishes after it changed the set: the page needs nothing else.
      sets.add('carol', 'room:8');
      bus.publish('user:carol', JSON.stringify({ type: 'channels', rooms: ['room:7', 'room:8'] }));
      await until(own, `document.querySelectorAll('#rooms .chip').length === 2`);
      expect(await own.locator('#rooms .chip').allTextContents()).toEqual(['room:7', 'room:8']);
      expect(await own.isVisible('#rooms-empty')).toBe(false);
    } finally {
      await own.close();
    }
  });
});
