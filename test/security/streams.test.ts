// Streams an attacker's client cannot leave behind, and the small protocol
// faults of the bare-socket path, answered as Node's own server answers them:
// over real sockets, each with the hub's connection and topic counts checked.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import winston from 'winston';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { rawClient as openRaw } from '../support/rawClient.js';
import { waitUntil } from '../support/sse.js';

let bus: MemoryBus;
let app: TestApp;
const sockets: Socket[] = [];
/** What the server logged at error level: a client's misbehaviour is not the server's error. */
const errors: unknown[] = [];
const logger = winston.createLogger({
  level: 'error',
  transports: [
    new winston.transports.Stream({
      stream: new Writable({
        objectMode: true,
        write: (entry: unknown, _encoding, done) => {
          errors.push(entry);
          done();
        },
      }),
    }),
  ],
});

const rawClient = () => openRaw(app.port, sockets);

const get = (path: string, extra = '', version = '1.1') =>
  `GET ${path} HTTP/${version}\r\nHost: x\r\n${extra}\r\n`;
const headOf = (text: string) => text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
const hub = () => app.streamer.hub;

beforeAll(async () => {
  bus = new MemoryBus();
  app = await startApp({ source: bus, logger, env: { EPS_INTERVAL_MS: '20' } });
});

afterEach(async () => {
  expect(errors).toEqual([]);
  for (const s of sockets.splice(0)) s.destroy();
  await waitUntil(() => hub().clientCount() === 0, 5_000, 'streams released');
});

afterAll(async () => {
  await app.close();
});

describe('no stream outlives its connection', () => {
  it('two stream GETs pipelined in one packet are both released at close', async () => {
    const c = rawClient();
    c.send(get('/subscribe/eps') + get('/subscribe/details/2665'));
    await c.until('the first stream', (t) => t.includes(':ok'));
    // The second is queued behind the first, which never ends: it is no stream yet.
    await new Promise((r) => setTimeout(r, 100));
    expect(hub().clientCount()).toBe(1);
    c.socket.destroy();
    await waitUntil(() => hub().clientCount() === 0, 5_000, 'both released');
    await waitUntil(() => hub().topicCount('details') === 0, 5_000, 'no details topic left');
  });

  it('a queued stream starts when the one before it ends, and goes at close', async () => {
    const c = rawClient();
    c.send(get('/subscribe/eps') + get('/subscribe/details/2665'));
    await waitUntil(() => hub().clientCount('eps') === 1, 5_000, 'the first stream');
    for (const s of hub().find((x) => hub().isIn(x, 'eps'))) s.end();
    await waitUntil(() => hub().clientCount('details') === 1, 5_000, 'the second stream');
    expect(hub().clientCount('eps')).toBe(0);
    c.socket.destroy();
    await waitUntil(() => hub().clientCount() === 0, 5_000, 'released');
  });

  it('a connection piling up pipelined stream GETs is read no further', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const c = rawClient();
    // 60,000 requests behind a stream that never ends: Node's server stops reading
    // once the queued responses hold its buffer, as it does for any response.
    c.send(get('/subscribe/eps').repeat(60_000));
    await c.until('the first stream', (t) => t.includes(':ok'));
    await new Promise((r) => setTimeout(r, 500));
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(hub().clientCount()).toBe(1);
    // Node parses one read's worth of requests (about 64 KB) before it stops: bounded, not zero.
    expect(grown).toBeLessThan(30_000_000);
    c.socket.resetAndDestroy();
    // Node reads the paused socket no further, so the reset is seen at the next write.
    bus.publish('stream.score_updates', '2665');
    await waitUntil(() => hub().clientCount() === 0, 5_000, 'released');
  });

  it('a client that resets right after its GET leaves no stream and no topic', async () => {
    const topicsBefore = hub().topicCount();
    for (let i = 0; i < 200; i++) {
      const s = connect({ port: app.port, host: '127.0.0.1' });
      s.on('error', () => {});
      s.on('connect', () => {
        s.write(get(`/subscribe/details/${(0x2600 + i).toString(16).toUpperCase()}`));
        s.resetAndDestroy();
      });
    }
    await new Promise((r) => setTimeout(r, 300));
    await waitUntil(() => hub().clientCount() === 0, 5_000, 'no stream');
    await waitUntil(() => hub().topicCount() <= topicsBefore, 5_000, 'no topic left');
    expect(errors).toEqual([]);
  });
});

describe('what a stream keeps', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  /** Heap bytes per stream of `count` streams opened with `target`, after a full collection. */
  async function heapPerStream(target: string, count: number): Promise<number> {
    gc();
    const before = process.memoryUsage().heapUsed;
    const clients = Array.from({ length: count }, () => rawClient());
    for (const c of clients) c.send(get(target, 'User-Agent: ' + 'u'.repeat(6_000) + '\r\n'));
    await waitUntil(() => hub().clientCount('eps') === count, 10_000, 'the streams');
    gc();
    const per = (process.memoryUsage().heapUsed - before) / count;
    for (const c of clients) c.socket.destroy();
    await waitUntil(() => hub().clientCount() === 0, 5_000, 'released');
    return per;
  }

  it('neither its whole request target nor its whole User-Agent', async () => {
    const count = 200;
    const short = await heapPerStream('/subscribe/eps', count);
    const long = await heapPerStream(`/subscribe/eps?${'q'.repeat(9_000)}`, count);
    // A kept target would be 9 KB a stream more, a kept User-Agent 6 KB.
    expect(long - short).toBeLessThan(4_000);
    expect(short).toBeLessThan(9_000);
  });
});

describe('protocol faults, answered as Node answers them', () => {
  it('a head with bare LF line ends gets a 400 at once', async () => {
    const c = rawClient();
    c.send('GET /subscribe/eps HTTP/1.1\nHost: x\n\n');
    await c.until('a 400', (t) => t.startsWith('HTTP/1.1 400'), 2_000);
    expect(hub().clientCount()).toBe(0);
  });

  it('a stream asked with Connection: close says close, and closes when it ends', async () => {
    const c = rawClient();
    c.send(get('/subscribe/eps', 'Connection: close\r\n'));
    await c.until('the stream', (t) => t.includes(':ok'));
    expect(headOf(c.text())).toContain('Connection: close');
    expect(headOf(c.text())).not.toContain('Connection: keep-alive');
    for (const s of hub().find((x) => hub().isIn(x, 'eps'))) s.end();
    await c.until('the close', () => c.closed());
  });

  it('Connection: x-close is not close', async () => {
    const c = rawClient();
    c.send(get('/subscribe/eps', 'Connection: x-close\r\n'));
    await c.until('the stream', (t) => t.includes(':ok'));
    expect(headOf(c.text())).toContain('Connection: keep-alive');
    for (const s of hub().find((x) => hub().isIn(x, 'eps'))) s.end();
    await c.until('the end of the body', (t) => t.endsWith('0\r\n\r\n'));
    c.send(get('/healthz'));
    await c.until('the next answer', (t) => t.includes('HTTP/1.1 200 OK', 10));
    expect(c.closed()).toBe(false);
  });

  it('an HTTP/1.0 stream says close, and ends at close', async () => {
    const c = rawClient();
    c.send(get('/subscribe/eps', '', '1.0'));
    await c.until('the stream', (t) => t.includes(':ok'));
    expect(c.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(headOf(c.text())).toContain('Connection: close');
    for (const s of hub().find((x) => hub().isIn(x, 'eps'))) s.end();
    await c.until('the close', () => c.closed());
  });

  it('a request sent while a stream runs is answered after it, not dropped', async () => {
    const c = rawClient();
    c.send(get('/subscribe/eps'));
    await waitUntil(() => hub().clientCount('eps') === 1, 5_000, 'the stream');
    c.send(get('/healthz'));
    await new Promise((r) => setTimeout(r, 50));
    for (const s of hub().find((x) => hub().isIn(x, 'eps'))) s.end();
    await c.until('the health answer', (t) => /0\r\n\r\nHTTP\/1\.1 200 OK\r\n/.test(t));
  });

  it('an absolute-form target is the path it names', async () => {
    const c = rawClient();
    c.send(get('http://x/subscribe/eps?a=1'));
    await c.until('the stream', (t) => t.includes(':ok'));
    expect(c.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(hub().clientCount('eps')).toBe(1);
  });
});
