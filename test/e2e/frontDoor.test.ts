// Streams answered on the bare socket, and every other request still answered
// by the HTTP server as before: the front door's two ways, over real sockets.
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SseConnection } from '../../src/transports/sse/SseConnection.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { rawClient as openRaw } from '../support/rawClient.js';
import { waitUntil } from '../support/sse.js';
import type { StatusDocument } from '../support/status.js';

let bus: MemoryBus;
let app: TestApp;
const sockets: Socket[] = [];

const rawClient = (options: { allowHalfOpen?: boolean; port?: number } = {}) =>
  openRaw(options.port ?? app.port, sockets, options);

const GET_EPS = 'GET /subscribe/eps HTTP/1.1\r\nHost: x\r\nUser-Agent: raw-test\r\n\r\n';
const bodyOf = (text: string) => text.slice(text.indexOf('\r\n\r\n') + 4);
async function withHeadersTimeout(ms: number, body: () => Promise<void>): Promise<void> {
  const server = app.streamer.server;
  const before = server.headersTimeout;
  server.headersTimeout = ms;
  try {
    await body();
  } finally {
    server.headersTimeout = before;
  }
}

const streamsOnBareSocket = () =>
  [...app.streamer.hub.connected()].map((c) => c instanceof SseConnection && c.onBareSocket);

beforeAll(async () => {
  bus = new MemoryBus();
  app = await startApp({
    source: bus,
    // The tests end streams through the cleanup endpoint, by client IP.
    env: { TRUST_PROXY: 'loopback', EPS_INTERVAL_MS: '20', CLEANUP_BY_IP: 'true' },
  });
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await waitUntil(() => app.streamer.hub.clientCount() === 0, 5_000, 'streams released');
});

afterAll(async () => {
  await app.close();
});

describe('a stream on a new connection', () => {
  it('is answered on the bare socket: a chunked head, the first byte, then the messages', async () => {
    const c = rawClient();
    c.send(GET_EPS);
    await c.until('the first byte', (t) => t.endsWith('5\r\n:ok\n\n\r\n'));
    const [head = ''] = c.text().split('\r\n\r\n');
    const lines = head.split('\r\n');
    expect(lines[0]).toBe('HTTP/1.1 200 OK');
    expect(lines.slice(1).filter((l) => !l.startsWith('Date: '))).toEqual([
      'Content-Type: text/event-stream; charset=utf-8',
      'Cache-Control: no-cache',
      'Connection: keep-alive',
      'Access-Control-Allow-Origin: *',
      'X-Accel-Buffering: no',
      'Transfer-Encoding: chunked',
    ]);
    expect(lines.find((l) => l.startsWith('Date: '))).toMatch(/^Date: \w{3}, \d\d \w{3} \d{4} /);
    expect(streamsOnBareSocket()).toEqual([true]);

    bus.publish('stream.score_updates', '2665');
    bus.publish('stream.score_updates', '2665');
    await c.until('an eps message', (t) => bodyOf(t).length > 12);
    expect(bodyOf(c.text())).toBe('5\r\n:ok\n\n\r\n11\r\ndata:{"2665":2}\n\n\r\n');
  });

  it('is taken even when its head arrives a few bytes at a time', async () => {
    const c = rawClient();
    for (let i = 0; i < GET_EPS.length; i += 7) {
      c.send(GET_EPS.slice(i, i + 7));
      await new Promise((r) => setTimeout(r, 2));
    }
    await c.until('the first byte', (t) => t.endsWith('5\r\n:ok\n\n\r\n'));
    expect(streamsOnBareSocket()).toEqual([true]);
  });

  it('is released when the client goes, or half-closes its side', async () => {
    const a = rawClient();
    const b = rawClient();
    a.send(GET_EPS);
    b.send(GET_EPS);
    await waitUntil(() => app.streamer.hub.clientCount('eps') === 2, 5_000, 'two streams');
    a.socket.destroy();
    await waitUntil(() => app.streamer.hub.clientCount('eps') === 1, 5_000, 'one released');
    b.socket.end();
    await waitUntil(() => app.streamer.hub.clientCount('eps') === 0, 5_000, 'both released');
    await b.until('the server closing its side', () => b.closed());
  });

  it('ended by the server, leaves the connection open for the next request', async () => {
    const c = rawClient();
    c.send(GET_EPS);
    await waitUntil(() => app.streamer.hub.clientCount('eps') === 1, 5_000, 'the stream');
    const cleanup = await fetch(`${app.url}/subscribe/cleanup/scores`, { method: 'POST' });
    expect(await cleanup.json()).toEqual({ status: 'OK', closed: 1 });
    await c.until('the end of the body', (t) => t.endsWith('5\r\n:ok\n\n\r\n0\r\n\r\n'));
    expect(app.streamer.hub.clientCount()).toBe(0);
    c.send('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.until('the next answer', (t) => t.includes('HTTP/1.1 200 OK', 10));
    expect(c.closed()).toBe(false);
  });

  it('reports the client address behind a trusted proxy, and its user agent', async () => {
    const c = rawClient();
    c.send(
      'GET /subscribe/details/2665 HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\nUser-Agent: ua/1\r\n\r\n',
    );
    await waitUntil(() => app.streamer.hub.clientCount('details') === 1, 5_000, 'the stream');
    const status = (await (await fetch(`${app.url}/admin/status.json`)).json()) as StatusDocument;
    expect(status.connections).toEqual([
      expect.objectContaining({
        request_path: '/subscribe/details/2665',
        namespace: '/details/2665',
        client_ip: '203.0.113.*',
        user_agent: 'ua/1',
      }),
    ]);
  });
});

describe('everything else goes to the HTTP server', () => {
  it('a bad id and a disabled stream get their JSON errors', async () => {
    const bad = rawClient();
    bad.send('GET /subscribe/details/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await bad.until('the answer', () => bad.closed());
    expect(bad.text()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(bodyOf(bad.text())).toContain('"RXS_ERR_BAD_ID"');
    const res = await fetch(`${app.url}/subscribe/details/1F602/extra`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('RXS_ERR_NOT_FOUND');
  });

  it('a request with a body, and keep-alive requests on one connection, are served', async () => {
    const c = rawClient();
    c.send('POST /subscribe/cleanup/scores HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
    await c.until('the cleanup answer', (t) => t.includes('"status":"OK"'));
    expect(c.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    // The same connection, now the HTTP server's, can still open a stream.
    c.send(GET_EPS);
    await c.until('the stream', (t) => t.endsWith('5\r\n:ok\n\n\r\n'));
    expect(streamsOnBareSocket()).toEqual([false]);
  });

  it("a head over the size limit gets Node's 431", async () => {
    const c = rawClient();
    c.send(`GET /subscribe/eps HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    await c.until('the answer', (t) => t.startsWith('HTTP/1.1 431'));
    expect(app.streamer.hub.clientCount()).toBe(0);
  });

  it('a GET with a body is left to the HTTP server, and served there', async () => {
    const c = rawClient();
    c.send('GET /subscribe/eps HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
    await c.until('the stream', (t) => t.endsWith('5\r\n:ok\n\n\r\n'));
    expect(streamsOnBareSocket()).toEqual([false]);
  });

  it('a head that never completes is answered 408 after headersTimeout', async () => {
    await withHeadersTimeout(200, async () => {
      const c = rawClient();
      c.send('GET /subscribe/eps HTTP/1.1\r\nHost: x\r\n');
      await c.until('the timeout', () => c.closed());
      expect(c.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    });
  });

  it('the deadline is for the whole head: trickling bytes does not extend it', async () => {
    await withHeadersTimeout(300, async () => {
      const c = rawClient();
      const started = Date.now();
      const head = GET_EPS.slice(0, -2);
      let i = 0;
      const drip = setInterval(() => i < head.length && c.send(head[i++] as string), 50);
      try {
        await c.until('the timeout', () => c.closed());
      } finally {
        clearInterval(drip);
      }
      expect(c.text()).toMatch(/^HTTP\/1\.1 408 /);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(i).toBeLessThan(head.length);
    });
  });

  it('a client that resets instead of reading its 408 harms nobody', async () => {
    const reader = rawClient();
    reader.send(GET_EPS);
    await waitUntil(() => app.streamer.hub.clientCount('eps') === 1, 5_000, 'the reader');
    await withHeadersTimeout(100, async () => {
      for (let n = 0; n < 3; n++) {
        // Half-open: it keeps its side open after the server's, then resets.
        const c = rawClient({ allowHalfOpen: true });
        c.send('GET /subscribe/eps HTTP/1.1\r\n');
        await c.until('the 408', (t) => t.startsWith('HTTP/1.1 408'));
        c.socket.resetAndDestroy();
      }
      await new Promise((r) => setTimeout(r, 100));
    });
    bus.publish('stream.score_updates', '2665');
    await reader.until('the message', (t) => t.includes('data:{"2665":1}'));
  });

  it('a request pipelined behind a stream request is left to the HTTP server', async () => {
    const c = rawClient();
    c.send(`${GET_EPS}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
    await c.until('the stream', (t) => t.endsWith('5\r\n:ok\n\n\r\n'));
    expect(streamsOnBareSocket()).toEqual([false]);
  });

  it("a request with no Host gets Node's 400", async () => {
    const c = rawClient();
    c.send('GET /subscribe/eps HTTP/1.1\r\nUser-Agent: x\r\n\r\n');
    await c.until('the answer', (t) => t.startsWith('HTTP/1.1 400'));
    expect(app.streamer.hub.clientCount()).toBe(0);
  });

  it('a stream asked for with Connection: close is closed when the server ends it', async () => {
    const c = rawClient();
    c.send('GET /subscribe/eps HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitUntil(() => app.streamer.hub.clientCount('eps') === 1, 5_000, 'the stream');
    expect(streamsOnBareSocket()).toEqual([true]);
    await fetch(`${app.url}/subscribe/cleanup/scores`, { method: 'POST' });
    await c.until('the connection closed', () => c.closed());
    expect(c.text().endsWith('0\r\n\r\n')).toBe(true);
  });

  it('other clients keep their streams while bad requests come and go', async () => {
    const reader = rawClient();
    reader.send(GET_EPS);
    await waitUntil(() => app.streamer.hub.clientCount('eps') === 1, 5_000, 'the reader');
    const junk = [
      '\x16\x03\x01\x02\x00',
      'GET / HTTP/9.9\r\n\r\n',
      'GET /subscribe/x\n\n\r\n\r\n',
    ].map((bytes) => {
      const c = rawClient();
      c.send(bytes);
      return c;
    });
    bus.publish('stream.score_updates', '1F602');
    await reader.until('the message', (t) => t.includes('data:{"1F602":1}'));
    expect(app.streamer.hub.clientCount('eps')).toBe(1);
    // Node's parser answers each with a 400 and closes it.
    for (const c of junk) await c.until('the answer', (t) => t.startsWith('HTTP/1.1 400'));
  });
});

describe('while the hub is closing', () => {
  it('a new stream gets the last bytes (a retry line) and ends at once', async () => {
    const closing = await startApp({ source: new MemoryBus() });
    try {
      closing.streamer.hub.close(); // the farewell: SHUTDOWN_RETRY_MS, 1000 by default
      const c = rawClient({ port: closing.port });
      c.send(GET_EPS);
      await c.until('the end of the body', (t) => t.endsWith('0\r\n\r\n'));
      expect(c.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(bodyOf(c.text())).toBe('c\r\nretry:1000\n\n\r\n0\r\n\r\n');
      expect(closing.streamer.hub.clientCount()).toBe(0);
    } finally {
      await closing.close();
    }
  });
});
