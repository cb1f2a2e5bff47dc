// /admin is private and bounded: without the ADMIN_TOKEN bearer, status.json
// masks client addresses and cuts User-Agents; a wrong token is a 401 in JSON;
// the list stops at ADMIN_MAX_CONNECTIONS; no /admin response is readable
// cross-origin; a large list is written in slices, still as one JSON document;
// the /admin/ page asks for the token and then shows the addresses.
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { StreamerError } from '../../src/core/errors.js';
import type { MetricsRegistry } from '../../src/core/metrics.js';
import type { Hub } from '../../src/fanout/Hub.js';
import { adminRouter } from '../../src/ops/admin.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { launchBrowser } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import { openSse, waitUntil } from '../support/sse.js';
import type { RawSse } from '../support/sse.js';
import type { StatusDocument } from '../support/status.js';

const TOKEN = 'test-admin-token-0123456789';
/** Longer than any masked User-Agent, and different at every position past 256. */
const LONG_UA = `long-agent/1.0 ${'0123456789'.repeat(150)}`;

type Status = StatusDocument & { detail: string; connections_total: number };

/** GET with the given headers, the body parsed as JSON. */
async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Status };
}

describe('with ADMIN_TOKEN and ADMIN_MAX_CONNECTIONS=2', () => {
  let app: TestApp;
  const streams: RawSse[] = [];
  const status = (headers: Record<string, string> = {}) =>
    get(`${app.url}/admin/status.json`, headers);

  beforeAll(async () => {
    app = await startApp({
      source: new MemoryBus(),
      env: { ADMIN_TOKEN: `  ${TOKEN} `, ADMIN_MAX_CONNECTIONS: '2' },
    });
    for (const path of ['/subscribe/eps', '/subscribe/eps', '/subscribe/details/1F602'])
      streams.push(await openSse(`${app.url}${path}`, { headers: { 'User-Agent': LONG_UA } }));
    await waitUntil(() => app.streamer.hub.clientCount() === 3);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await app?.close();
  });

  it('reads the token trimmed and the bound', () => {
    expect(app.config.adminToken).toBe(TOKEN);
    expect(app.config.adminMaxConnections).toBe(2);
  });

  it('masks addresses and cuts User-Agents to 256 characters without a token', async () => {
    const res = await status();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = res.json();
    expect(body).toMatchObject({ node: 'test-node', status: 'OK', detail: 'masked' });
    expect(body.connections.length).toBeGreaterThan(0);
    for (const c of body.connections) {
      expect(c.client_ip).toBe('127.0.0.*');
      expect(c.user_agent).toBe(LONG_UA.slice(0, 256));
    }
    expect(res.text).not.toContain('127.0.0.1');
  });

  it('shows everything to the bearer of the token', async () => {
    const body = (await status({ Authorization: `Bearer ${TOKEN}` })).json();
    expect(body.detail).toBe('full');
    expect(body.connections.map((c) => c.client_ip)).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(LONG_UA.startsWith(body.connections[0]?.user_agent ?? 'none')).toBe(true);
  });

  it('answers a wrong token with a 401 in JSON and a Bearer challenge', async () => {
    for (const authorization of [`Bearer ${TOKEN}x`, 'Bearer nope', `Basic ${TOKEN}`]) {
      const res = await status({ Authorization: authorization });
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(JSON.parse(res.text)).toMatchObject({
        statusCode: 401,
        code: 'RXS_ERR_UNAUTHORIZED',
        error: 'Unauthorized',
      });
      expect(res.text).not.toContain('127.0.0');
    }
  });

  it('lists at most ADMIN_MAX_CONNECTIONS, the oldest, and counts them all', async () => {
    const asked: Record<string, string>[] = [{}, { Authorization: `Bearer ${TOKEN}` }];
    for (const headers of asked) {
      const body = (await status(headers)).json();
      expect(body.connections).toHaveLength(2);
      expect(body.connections.map((c) => c.request_path)).toEqual([
        '/subscribe/eps',
        '/subscribe/eps',
      ]);
      expect(body.connections_total).toBe(3);
    }
  });

  it('lets no other site read /admin, while other routes keep their CORS header', async () => {
    const origin = { Origin: 'https://evil.example' };
    for (const path of ['/admin/status.json', '/admin/', '/admin/admin.js', '/ADMIN/status.json']) {
      const res = await get(`${app.url}${path}`, origin);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), path).toBeNull();
    }
    const redirect = await fetch(`${app.url}/admin`, { headers: origin, redirect: 'manual' });
    expect(redirect.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${app.url}/admin/status.json`, {
      method: 'OPTIONS',
      headers: { ...origin, 'Access-Control-Request-Method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-headers')).toBeNull();

    expect(streams[0]?.headers['access-control-allow-origin']).toBe('*');
    const missing = await get(`${app.url}/no/such/thing`, origin);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('access-control-allow-origin')).toBe('*');
    const administer = await get(`${app.url}/administer`, origin);
    expect(administer.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('without ADMIN_TOKEN', () => {
  let app: TestApp;
  let eps: RawSse;

  beforeAll(async () => {
    app = await startApp({ source: new MemoryBus() });
    eps = await openSse(`${app.url}/subscribe/eps`, { headers: { 'User-Agent': 'ua/1' } });
    await waitUntil(() => app.streamer.hub.clientCount() === 1);
  });
  afterAll(async () => {
    eps?.close();
    await app?.close();
  });

  it('masks for everyone, a request from this machine included', async () => {
    const body = (await get(`${app.url}/admin/status.json`)).json();
    expect(body.detail).toBe('masked');
    expect(body.connections_total).toBe(1);
    expect(body.connections[0]).toMatchObject({ client_ip: '127.0.0.*', user_agent: 'ua/1' });
  });

  it('masks for a request a proxy relayed, whatever Authorization it carries', async () => {
    const relayed: Record<string, string>[] = [
      { 'X-Forwarded-For': '203.0.113.7' },
      { 'X-Forwarded-For': '203.0.113.7', Authorization: `Bearer ${TOKEN}` },
    ];
    for (const headers of relayed) {
      const res = await get(`${app.url}/admin/status.json`, headers);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body.detail).toBe('masked');
      expect(body.connections[0]?.client_ip).toBe('127.0.0.*');
    }
  });
});

describe('the ADMIN_* variables', () => {
  it('refuses a short ADMIN_TOKEN at startup, naming the variable but not the value', async () => {
    expect(() => loadConfig({ ADMIN_TOKEN: 'short' })).toThrow(StreamerError);
    expect(() => loadConfig({ ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN.*16 characters/);
    expect(() => loadConfig({ ADMIN_TOKEN: 'short' })).not.toThrow(/short/);
    await expect(
      startApp({ source: new MemoryBus(), env: { ADMIN_TOKEN: 'short' } }),
    ).rejects.toThrow(/ADMIN_TOKEN/);
  });

  it('has defaults and bounds', () => {
    expect(loadConfig({})).toMatchObject({ adminToken: undefined, adminMaxConnections: 1000 });
    expect(loadConfig({ ADMIN_MAX_CONNECTIONS: '0' }).adminMaxConnections).toBe(0);
    expect(() => loadConfig({ ADMIN_MAX_CONNECTIONS: '1000001' })).toThrow(/ADMIN_MAX_CONNECTIONS/);
  });
});

describe('a large connection list', () => {
  const COUNT = 1_750;
  let server: ReturnType<typeof express.application.listen>;
  let url: string;

  beforeAll(async () => {
    const connections = new Set(
      Array.from({ length: COUNT }, (_, i) => ({
        info: {
          requestPath: '/subscribe/eps',
          namespace: '/eps',
          createdAt: 1_700_000_000_000 + i,
          clientIp: `198.51.100.${i % 250}`,
          userAgent: `ua/${i}`,
        },
        msgsSent: i,
        describe: undefined,
      })),
    );
    const hub = {
      connected: () => connections.values(),
      familyNames: () => ['eps'],
      clientCount: () => COUNT,
      stats: { msgsBroadcast: 0, bytesWritten: 0, slowClientsDropped: 0 },
    } as unknown as Hub;
    const metrics = { read: () => ({ counters: {}, gauges: {} }) } as unknown as MetricsRegistry;
    const app = express().use(
      adminRouter({
        hub,
        node: 'big',
        startedAt: 0,
        metrics,
        readiness: () => ({ ready: true }),
        protocols: () => ({}),
        adminToken: TOKEN,
        adminMaxConnections: 1_500,
      }),
    );
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/status.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));

  it('is written in several chunks, the event loop turning between them, as one document', async () => {
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const { chunks, text } = await new Promise<{ chunks: number; text: string }>(
      (resolve, reject) => {
        const req = request(url, { headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () =>
            resolve({ chunks: parts.length, text: Buffer.concat(parts).toString('utf8') }),
          );
        });
        req.on('error', reject);
        req.end();
      },
    );
    spinning = false;
    const body = JSON.parse(text) as Status;
    expect(body.detail).toBe('full');
    expect(body.connections_total).toBe(COUNT);
    expect(body.connections).toHaveLength(1_500);
    expect(body.connections[1_499]).toMatchObject({ user_agent: 'ua/1499', msgs_sent: 1_499 });
    expect(chunks).toBeGreaterThan(1);
    expect(turns).toBeGreaterThanOrEqual(3);
  });

  it('masks a large list just the same', async () => {
    const body = (await get(url)).json();
    expect(body.detail).toBe('masked');
    expect(body.connections).toHaveLength(1_500);
    expect(body.connections.every((c) => c.client_ip === '198.51.100.*')).toBe(true);
  });
});

describe('the /admin/ page with ADMIN_TOKEN', () => {
  let app: TestApp;
  let browser: TestBrowser;
  let eps: RawSse;
  const WAIT = { timeout: 15_000 };

  beforeAll(async () => {
    app = await startApp({ source: new MemoryBus(), env: { ADMIN_TOKEN: TOKEN } });
    eps = await openSse(`${app.url}/subscribe/eps`, { headers: { 'User-Agent': 'page-ua' } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    eps?.close();
    await app?.close();
  });

  it('shows masked addresses and a token form, then everything once the token is given', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const until = (expression: string) => page.waitForFunction(expression, undefined, WAIT);
    const ipCell = `document.querySelector('#connections tbody tr td:nth-child(2)')?.textContent`;

    await page.goto(`${app.url}/admin/?every=250`);
    await until(`${ipCell} === '127.0.0.*'`);
    await until(`!document.getElementById('token-form').hidden`);
    expect(await page.getAttribute('#token', 'type')).toBe('password');

    await page.fill('#token', 'not-the-right-token');
    await page.click('#token-form button');
    await until(`document.getElementById('token-note').textContent === 'That token was refused.'`);
    expect(
      await page.evaluate<string | null>(`sessionStorage.getItem('rx-streamer.admin-token')`),
    ).toBeNull();

    await page.fill('#token', TOKEN);
    await page.click('#token-form button');
    await until(`${ipCell} === '127.0.0.1'`);
    await until(`document.getElementById('token-form').hidden`);
    expect(await page.evaluate<string>(`sessionStorage.getItem('rx-streamer.admin-token')`)).toBe(
      TOKEN,
    );
    // It stays unlocked across a reload in the same tab.
    await page.reload();
    await until(`${ipCell} === '127.0.0.1'`);
    expect(errors).toEqual([]);
  });
});
