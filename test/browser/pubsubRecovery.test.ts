// The browser pub/sub client (/clients/pubsub.js) recovering on reconnect, in
// headless Chromium against a real server process on a real Redis: the server
// is stopped while messages are published with history, and started again on
// the same port; the page's client comes back by itself and gets exactly what
// it missed, in order, then live ones — or, when the channel's history was
// lost meanwhile, is told `recovered: false` and is given nothing replayed.
import type { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type * as Pubsub from '../../public/clients/pubsub.js';
import { publish } from '../../src/index.js';
import { historyKeys } from '../../src/sources/channelHistory.js';
import { launchBrowser } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { publishApi } from '../support/publish.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';

const KEY = 'browser-publish-key-0123';
const WAIT = { timeout: 15_000 };
let redis: TestRedis;
let cli: Redis;
let server: ServerProcess | undefined;
let port = 0;
let browser: TestBrowser;
const pages: Page[] = [];
const pageErrors: string[] = [];

interface Seen {
  readonly channel: string;
  readonly message: unknown;
  readonly offset?: number;
}
interface Log {
  readonly messages: Seen[];
  readonly recovered: { channel: string; recovered: boolean }[];
  readonly states: string[];
  readonly controls: { content: string; error: boolean }[];
}

async function serve(): Promise<void> {
  server = await startServerProcess({
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    REDIS_URL: redis.url,
    NODE_NAME: 'browser-recovery',
    PROTOCOLS: 'pubsub',
    PUBLISH_API_KEY: KEY,
  });
  port = server.port;
}

/** Stops the server (SIGTERM, as a deploy does), runs `meanwhile`, and starts it on the same port. */
async function restart(page: Page, meanwhile: () => Promise<void>): Promise<void> {
  server?.child.kill('SIGTERM');
  await server?.exited();
  await page.waitForFunction(`window.log.states.includes('reconnecting')`, undefined, WAIT);
  await meanwhile();
  await serve();
}

const viaApi = async (channel: string, data: unknown): Promise<number> =>
  (await publishApi(`http://127.0.0.1:${port}`, KEY, `pubsub:${channel}`, data)).offset;

/** A page with a client (window.client) subscribed to `channel`, its events in window.log. */
async function clientPage(channel: string): Promise<Page> {
  const page = await browser.newPage();
  pages.push(page);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // Any page of the server's origin: the client is imported from it.
  await page.goto(`http://127.0.0.1:${port}/clients/pubsub.js`);
  // A string, so that the test runner's own rewriting of import() stays out of the page.
  await page.evaluate(`import('/clients/pubsub.js').then((m) => { window.pubsub = m; })`);
  await page.evaluate((ch) => {
    const w = globalThis as unknown as Record<string, unknown>;
    const { connect } = w.pubsub as typeof Pubsub;
    const log: Log = { messages: [], recovered: [], states: [], controls: [] };
    // Short backoff: the test waits for the restart, not for the client's patience.
    const client = connect('/pubsub', { minDelayMs: 100, maxDelayMs: 400 });
    client.on('message', (m) => log.messages.push(m));
    client.on('recovered', (r) => log.recovered.push(r));
    client.on('state', (s) => log.states.push(s));
    client.on('control', (c) => log.controls.push(c));
    client.subscribe(ch);
    Object.assign(w, { client, log });
  }, channel);
  await page.waitForFunction(
    `window.log.controls.some((c) => c.content === ${JSON.stringify(`Subscribed to ${channel}`)})`,
    undefined,
    WAIT,
  );
  return page;
}

const logOf = (page: Page) => page.evaluate<Log>('window.log');
const messagesOf = async (page: Page, channel: string) =>
  (await logOf(page)).messages.filter((m) => m.channel === channel);
const untilMessages = (page: Page, channel: string, count: number) =>
  page.waitForFunction(
    `window.log.messages.filter((m) => m.channel === ${JSON.stringify(channel)}).length >= ${count}`,
    undefined,
    WAIT,
  );
const positionOf = (page: Page, channel: string) =>
  page.evaluate<{ epoch: string; offset: number } | undefined>(
    `window.client.position(${JSON.stringify(channel)})`,
  );

beforeAll(async () => {
  redis = await startRedis();
  cli = redis.client();
  await serve();
  browser = await launchBrowser();
}, 60_000);

afterEach(async () => {
  for (const page of pages.splice(0)) await page.close();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await redis?.stop();
});

it('comes back after a restart with exactly the messages it missed, in order, then live ones', async () => {
  const page = await clientPage('room');
  const { epoch } = (await positionOf(page, 'room')) ?? { epoch: '' };
  for (const n of [1, 2, 3]) await viaApi('room', { n });
  await untilMessages(page, 'room', 3);
  expect(await positionOf(page, 'room')).toEqual({ epoch, offset: 3 });

  await restart(page, async () => {
    for (const n of [4, 5, 6, 7, 8]) await publish(cli, 'pubsub:room', { n });
  });
  await page.waitForFunction(`window.log.recovered.length === 1`, undefined, WAIT);
  await untilMessages(page, 'room', 8);
  await viaApi('room', { n: 9 });
  await untilMessages(page, 'room', 9);

  const log = await logOf(page);
  expect(log.recovered).toEqual([{ channel: 'room', recovered: true }]);
  expect(await messagesOf(page, 'room')).toEqual(
    [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ channel: 'room', message: { n }, offset: n })),
  );
  expect(log.states).toEqual(['open', 'reconnecting', 'open']);
  expect(await positionOf(page, 'room')).toEqual({ epoch, offset: 9 });
  expect(pageErrors).toEqual([]);
}, 60_000);

it('says recovered: false, and replays nothing, when the history was lost while it was away', async () => {
  const page = await clientPage('lost');
  const before = await positionOf(page, 'lost');
  for (const n of [1, 2]) await viaApi('lost', { n });
  await untilMessages(page, 'lost', 2);

  await restart(page, async () => {
    for (const n of [3, 4]) await publish(cli, 'pubsub:lost', { n });
    // The channel's meta hash gone (flushed, expired): its history has a new epoch.
    await cli.del(historyKeys('pubsub:lost').meta);
  });
  await page.waitForFunction(`window.log.recovered.length === 1`, undefined, WAIT);
  const after = await positionOf(page, 'lost');
  expect(after?.epoch).not.toBe(before?.epoch);
  const live = await viaApi('lost', 'live');
  await untilMessages(page, 'lost', 3);

  const log = await logOf(page);
  expect(log.recovered).toEqual([{ channel: 'lost', recovered: false }]);
  expect(await messagesOf(page, 'lost')).toEqual([
    { channel: 'lost', message: { n: 1 }, offset: 1 },
    { channel: 'lost', message: { n: 2 }, offset: 2 },
    { channel: 'lost', message: 'live', offset: live },
  ]);
  expect(await positionOf(page, 'lost')).toEqual({ epoch: after?.epoch, offset: live });
  expect(pageErrors).toEqual([]);
}, 60_000);

it('on a gap the server reports, subscribes again with recover and fills it in, in order, once', async () => {
  const page = await clientPage('gappy');
  await viaApi('gappy', { n: 1 });
  await untilMessages(page, 'gappy', 1);
  // Offset 2 stored in the history but never PUBLISHed, as when the server's
  // subscriber connection dropped it: the server sees 3 follow 1.
  const { meta, stream } = historyKeys('pubsub:gappy');
  await cli.hincrby(meta, 's', 1);
  await cli.xadd(stream, '2-0', 'p', JSON.stringify({ n: 2 }));
  await viaApi('gappy', { n: 3 });
  await page.waitForFunction(`window.log.recovered.length === 1`, undefined, WAIT);
  await untilMessages(page, 'gappy', 3);
  await viaApi('gappy', { n: 4 });
  await untilMessages(page, 'gappy', 4);

  const log = await logOf(page);
  expect(log.controls.some((c) => c.content.startsWith('messages on gappy were lost'))).toBe(true);
  expect(log.recovered).toEqual([{ channel: 'gappy', recovered: true }]);
  expect(await messagesOf(page, 'gappy')).toEqual(
    [1, 2, 3, 4].map((n) => ({ channel: 'gappy', message: { n }, offset: n })),
  );
  expect(log.states).toEqual(['open']);
  expect(pageErrors).toEqual([]);
});
