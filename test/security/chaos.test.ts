// Chaos: the server as a real process (embedded bus, demo feeder, every
// protocol, streams that expire) under tens of thousands of connections doing
// the worst things a client can — resets mid-head and mid-stream, half-closes,
// paused readers, pipelining, garbage, dropped WebSocket handshakes and
// subscriptions, and on SockJS and WebSocket: oversized and fragmented messages,
// never-reading clients, pre-RFC 6455 handshakes, huge batches, control-error
// floods, oversized sends, abandoned polling sessions — and afterwards nothing
// is left: no stream, no topic, no bus
// subscription, a heap back near where it started (measured after a full
// collection, asked for through the inspector), and SIGTERM still exits 0.
// CHAOS_CONNECTIONS sets the number of connections (20,000 by default).
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { seededRandom } from '../../src/protocols/emojitrack/demoFeed.js';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { waitUntil } from '../support/sse.js';

const CONNECTIONS = Number(process.env.CHAOS_CONNECTIONS ?? 20_000);
/** The server's WS_MAX_FRAME_BYTES here: what oversized messages are measured against. */
const MAX_FRAME = 16 * 1024;
const CONCURRENCY = 250;
const TOKEN = 'chaos-admin-token-0123456789';

let server: ServerProcess;
let inspector: WebSocket;

const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
// Seeded, so a failing run can be told apart from another (CHAOS_SEED replays one).
const random = seededRandom(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls the server's inspector (Chrome DevTools Protocol). */
let nextId = 1;
function cdp(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onMessage = (data: Buffer) => {
      const reply = JSON.parse(data.toString('utf8')) as {
        id?: number;
        result?: unknown;
        error?: unknown;
      };
      if (reply.id !== id) return;
      inspector.off('message', onMessage);
      if (reply.error) reject(new Error(JSON.stringify(reply.error)));
      else resolve(reply.result);
    };
    inspector.on('message', onMessage);
    inspector.send(JSON.stringify({ id, method, params }));
  });
}
/** The server's heap after full collections. */
async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) await cdp('HeapProfiler.collectGarbage');
  const result = (await cdp('Runtime.evaluate', {
    expression: 'process.memoryUsage().heapUsed',
    returnByValue: true,
  })) as { result: { value: number } };
  return result.result.value;
}

interface Status {
  connections_total: number;
  metrics: Record<string, number>;
}
async function status(): Promise<Status> {
  const res = await fetch(`${server.url}/admin/status.json`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  return (await res.json()) as Status;
}

/** A raw socket that resolves when it is closed, whoever closed it. */
function raw(): { socket: Socket; closed: Promise<void>; data: Promise<void> } {
  const socket = connect({ port: server.port, host: '127.0.0.1' });
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  const data = new Promise<void>((r) => {
    socket.once('data', () => r());
    socket.once('close', () => r());
  });
  return { socket, closed, data };
}
const connected = (s: Socket) =>
  new Promise<void>((r) => {
    s.once('connect', () => r());
    s.once('close', () => r());
  });

const detail = () =>
  `/subscribe/details/${pick(['1F602', '2665', '2764', '1F60D'])}${
    random() < 0.3
      ? `-${Math.floor(random() * 4096)
          .toString(16)
          .toUpperCase()}`
      : ''
  }`;
const streamPath = () => pick(['/subscribe/eps', '/subscribe/raw', detail(), '/?user=chaos']);
const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

/** The worst things a client does, each a connection from start to end. */
const behaviours: Record<string, () => Promise<void>> = {
  async resetMidHead() {
    const c = raw();
    await connected(c.socket);
    c.socket.write(get(streamPath()).slice(0, 10 + Math.floor(random() * 20)));
    await sleep(random() * 5);
    c.socket.resetAndDestroy();
  },
  async resetAfterGet() {
    const c = raw();
    await connected(c.socket);
    c.socket.write(get(streamPath()));
    c.socket.resetAndDestroy();
  },
  async resetMidStream() {
    const c = raw();
    c.socket.write(get(streamPath()));
    await c.data;
    await sleep(random() * 30);
    c.socket.resetAndDestroy();
  },
  async halfClose() {
    const c = raw();
    c.socket.write(get(streamPath()));
    await c.data;
    c.socket.end();
    await c.closed;
  },
  async pausedReader() {
    const c = raw();
    c.socket.write(get('/subscribe/raw'));
    await c.data;
    c.socket.pause();
    await sleep(50 + random() * 150);
    c.socket.destroy();
  },
  async pipelined() {
    const c = raw();
    c.socket.write(get(streamPath()) + get(streamPath()) + get('/healthz'));
    await c.data;
    await sleep(random() * 30);
    c.socket.destroy();
  },
  async connectionClose() {
    const c = raw();
    c.socket.write(get(streamPath(), 'Connection: close\r\n'));
    await c.data;
    c.socket.destroy();
  },
  async http10() {
    const c = raw();
    c.socket.write(`GET ${streamPath()} HTTP/1.0\r\n\r\n`);
    await c.data;
    c.socket.destroy();
  },
  async expires() {
    // Forced refresh ends every stream after SSE_MAX_AGE_MS: the body ends, the connection stays.
    const c = raw();
    let text = '';
    const ended = new Promise<void>((r) => {
      c.socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.endsWith('\r\n0\r\n\r\n')) r();
      });
      c.socket.once('close', () => r());
    });
    c.socket.write(get(pick(['/subscribe/eps', detail()])));
    await ended;
    c.socket.destroy();
  },
  async garbage() {
    const c = raw();
    c.socket.write(
      pick([
        '\x16\x03\x01\x02\x00',
        'GET /subscribe/eps HTTP/1.1\nHost: x\n\n',
        '\r\n\r\n',
        'GET /subscribe/eps HTTP/9\r\n\r\n',
      ]),
    );
    await sleep(random() * 20);
    c.socket.destroy();
  },
  async cleanupForgery() {
    const c = raw();
    c.socket.write(
      `POST /subscribe/cleanup/scores HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    await c.closed;
  },
  async wsDropped() {
    const c = raw();
    c.socket.write(
      get(
        pick(['/pubsub', '/datastream?site=mrc']),
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n',
      ),
    );
    await c.data;
    c.socket.resetAndDestroy();
  },
  async wsSubscribed() {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/pubsub`);
    ws.on('error', () => {});
    await new Promise<void>((r) => {
      ws.once('open', () => r());
      ws.once('close', () => r());
    });
    if (ws.readyState === WebSocket.OPEN) {
      ws.send(
        JSON.stringify({
          action: 'subscribe',
          payload: { channel: `chaos.${Math.floor(random() * 500)}` },
        }),
      );
      await sleep(random() * 40);
    }
    ws.terminate();
  },
};
/** WebSocket upgrade headers, RFC 6455. */
const UPGRADE =
  'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
/** A masked client text frame (mask key 0). */
function clientFrame(text: string): Buffer {
  const body = Buffer.from(text);
  const header =
    body.length < 126
      ? Buffer.from([0x81, 0x80 | body.length])
      : Buffer.from([0x81, 0x80 | 126, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([header, Buffer.alloc(4), body]);
}
const sockJsSocket = () =>
  pick(['/pubsub/websocket', `/pubsub/0/${Math.floor(random() * 1e9)}/websocket`]);
const openWsClient = async (path: string) => {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`);
  ws.on('error', () => {});
  await new Promise<void>((r) => {
    ws.once('open', () => r());
    ws.once('close', () => r());
  });
  return ws;
};
const closedWs = (ws: WebSocket) =>
  new Promise<void>((r) =>
    ws.readyState === WebSocket.CLOSED ? r() : ws.once('close', () => r()),
  );

Object.assign(behaviours, {
  async oversized() {
    const ws = await openWsClient(pick(['/pubsub', '/datastream?site=mrc', sockJsSocket()]));
    if (ws.readyState === WebSocket.OPEN) ws.send('x'.repeat(MAX_FRAME + 1));
    await closedWs(ws);
  },
  async fragmented() {
    const ws = await openWsClient(pick(['/pubsub', sockJsSocket()]));
    const piece = 'y'.repeat(4096);
    for (let sent = 0; ws.readyState === WebSocket.OPEN && sent <= MAX_FRAME; sent += piece.length)
      ws.send(piece, { fin: false });
    await closedWs(ws);
  },
  async neverReads() {
    const c = raw();
    c.socket.write(get(pick(['/pubsub', sockJsSocket()]), UPGRADE));
    await c.data;
    c.socket.write(
      clientFrame(JSON.stringify({ action: 'subscribe', payload: { channel: 'chaos.flood' } })),
    );
    c.socket.pause();
    await sleep(50 + random() * 150);
    c.socket.destroy();
  },
  async hixie75() {
    const c = raw();
    c.socket.write(
      get(
        '/pubsub/0/old/websocket',
        'Upgrade: WebSocket\r\nConnection: Upgrade\r\nOrigin: null\r\n',
      ),
    );
    c.socket.write('\x00'.repeat(Math.floor(random() * 1000)));
    await c.closed;
  },
  async hugeBatch() {
    const ws = await openWsClient(`/pubsub/0/${Math.floor(random() * 1e9)}/websocket`);
    if (ws.readyState === WebSocket.OPEN)
      ws.send(`[${new Array(MAX_FRAME / 4 - 1).fill('"x"').join(',')}]`);
    await closedWs(ws);
  },
  async controlFlood() {
    const c = raw();
    c.socket.write(get('/pubsub', UPGRADE));
    await c.data;
    c.socket.pause();
    const frame = clientFrame(JSON.stringify({ action: 'z'.repeat(100) }));
    for (let i = 0; i < 50; i++) c.socket.write(frame);
    await sleep(random() * 50);
    c.socket.destroy();
  },
  async oversizedSend() {
    const c = raw();
    c.socket.write(
      `POST /pubsub/0/${Math.floor(random() * 1e9)}/xhr_send HTTP/1.1\r\nHost: x\r\nContent-Length: ${MAX_FRAME * 64}\r\n\r\n`,
    );
    c.socket.write('z'.repeat(1024));
    await c.closed;
  },
  async abandonedPoll() {
    const c = raw();
    c.socket.write(
      `POST /pubsub/0/${Math.floor(random() * 1e9)}/xhr HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    await c.closed;
  },
});
const names = Object.keys(behaviours);

beforeAll(async () => {
  server = await startServerProcess(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      NODE_NAME: 'chaos-node',
      ADMIN_TOKEN: TOKEN,
      DEMO_RATE: '2000',
      EPS_INTERVAL_MS: '20',
      SSE_FORCE_REFRESH: 'true',
      SSE_MAX_AGE_MS: '300',
      SSE_DETAIL_MAX_AGE_MS: '300',
      SUBSCRIPTION_GRACE_MS: '50',
      DETAIL_IDLE_MS: '200',
      SLOW_CLIENT_TIMEOUT_MS: '200',
      WS_MAX_FRAME_BYTES: String(MAX_FRAME),
    },
    { nodeArgs: ['--inspect=127.0.0.1:0'] },
  );
  const url = /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(server.stderr())?.[0];
  if (!url) throw new Error(`no inspector address in: ${server.stderr()}`);
  inspector = new WebSocket(url);
  await new Promise((resolve, reject) => inspector.once('open', resolve).once('error', reject));
}, 60_000);

afterAll(async () => {
  inspector?.close();
  await server?.stop();
});

describe('chaos', () => {
  it(`${CONNECTIONS} hostile connections leave nothing behind, and SIGTERM exits 0`, async () => {
    // Warm up every path once, so the baseline has its lazily made parts.
    for (const name of names) await behaviours[name]?.();
    await waitUntil(async () => (await status()).connections_total === 0, 10_000, 'warm-up done');
    await sleep(500);
    const before = await status();
    const heapBefore = await heapAfterGc();

    const counts: Record<string, number> = {};
    const hung: Record<string, number> = {};
    const slowest: Record<string, number> = {};
    let started = 0;
    const worker = async () => {
      while (started < CONNECTIONS) {
        started++;
        const name = pick(names);
        counts[name] = (counts[name] ?? 0) + 1;
        // A connection the server neither serves nor closes is a finding, not a hang.
        let timer: NodeJS.Timeout | undefined;
        const stuck = new Promise<void>((r) => {
          timer = setTimeout(() => {
            hung[name] = (hung[name] ?? 0) + 1;
            r();
          }, 5_000);
        });
        const t = Date.now();
        await Promise.race([behaviours[name]?.(), stuck]);
        clearTimeout(timer);
        slowest[name] = Math.max(slowest[name] ?? 0, Date.now() - t);
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const tookMs = Date.now() - t0;

    // Nothing left: streams, topics, upstream subscriptions, pub/sub channels.
    await waitUntil(
      async () => {
        const s = await status();
        return (
          s.connections_total === 0 &&
          s.metrics['stream.topics'] === before.metrics['stream.topics'] &&
          s.metrics['bus.subscriptions'] === before.metrics['bus.subscriptions'] &&
          (s.metrics['pubsub.channels'] ?? 0) === 0
        );
      },
      20_000,
      'every stream, topic and subscription released',
    );
    const after = await status();
    const heapAfter = await heapAfterGc();
    console.info(
      `chaos (seed ${SEED}): ${CONNECTIONS} connections in ${tookMs} ms, ` +
        `${(after.metrics['stream.connections.opened'] ?? 0) - (before.metrics['stream.connections.opened'] ?? 0)} streams opened; ` +
        `heap ${(heapBefore / 1e6).toFixed(1)} → ${(heapAfter / 1e6).toFixed(1)} MB; ${JSON.stringify(counts)}`,
    );
    console.info(`slowest per behaviour (ms): ${JSON.stringify(slowest)}`);
    expect(hung).toEqual({});
    expect(after.connections_total).toBe(0);
    expect(heapAfter - heapBefore).toBeLessThan(Math.max(8e6, heapBefore * 0.25));

    // Still serving: a fresh stream gets data.
    const c = raw();
    c.socket.write(get('/subscribe/raw'));
    let text = '';
    c.socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    await waitUntil(() => text.includes('data:'), 5_000, 'live data');
    c.socket.destroy();

    // No error was logged: a client's misbehaviour is not the server's error.
    expect(server.logs().filter((l) => l.level === 'error')).toEqual([]);

    // With a debugger attached Node waits for it at exit: let go first.
    inspector.close();
    await new Promise((r) => inspector.once('close', r));
    server.child.kill('SIGTERM');
    expect(await server.exited()).toEqual({ code: 0, signal: null });
  }, 240_000);
});
