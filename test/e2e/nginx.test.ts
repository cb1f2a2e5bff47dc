// Several instances behind nginx, as deploy/nginx.conf ships (only its ports
// swapped): two server processes on one Redis, and every protocol used through
// the proxy across them. nginx spreads connections, so each test pins a client
// to each instance by finding its User-Agent in that instance's status document.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Redis } from 'ioredis';
import SockJS from 'sockjs-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DEPLOY_CONFIG, nginxInstalled, replaceOnce, startNginx } from '../support/nginx.js';
import type { TestNginx } from '../support/nginx.js';
import { NOOP, openNotify } from '../support/notify.js';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { publishApi } from '../support/publish.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { openSse, waitUntil } from '../support/sse.js';
import { ADMIN_TOKEN, adminStatus } from '../support/status.js';
import type { StatusDocument } from '../support/status.js';
import { isControl, isMessage, openWs } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

const PUBLISH_API_KEY = 'test-publish-key-0123456789';
const NOOP_MS = 300;
const KEY = 'datastream:incoming';
/** Another loopback address for the test's clients, so that nginx's own (127.0.0.1) differs. */
const CLIENT_ADDRESS = '127.0.0.2';

type Name = 'a' | 'b';
const NAMES: readonly Name[] = ['a', 'b'];

// In CI setup.sh has installed nginx: there the test runs, and fails if it is missing.
const skip =
  !nginxInstalled() && !process.env.CI
    ? ' (skipped: nginx is not installed; scripts/setup.sh installs it)'
    : '';

let redis: TestRedis;
let cli: Redis;
let instances: Record<Name, ServerProcess>;
let nginx: TestNginx;
const closers: (() => void)[] = [];
let seq = 0;

const wsUrl = (path: string, proxy: TestNginx = nginx) => `ws://127.0.0.1:${proxy.port}${path}`;

/** A page's headers: its Origin is nginx's own address, as the browser saw the page. */
const pageHeaders = (userAgent: string, proxy: TestNginx = nginx) => ({
  'User-Agent': userAgent,
  Origin: proxy.url,
});

async function ws(path: string, userAgent = `nginx-test/${++seq}`): Promise<WsClient> {
  const c = await openWs(wsUrl(path), pageHeaders(userAgent));
  closers.push(() => c.close());
  return c;
}

/** The instance whose status lists a connection with this User-Agent. */
async function instanceOf(userAgent: string): Promise<Name> {
  let found: Name | undefined;
  await waitUntil(
    async () => {
      for (const name of NAMES) {
        // An instance stopped (the last test) is not asked.
        if (instances[name].child.exitCode !== null) continue;
        const status = await adminStatus(instances[name].url);
        if (status.connections.some((c) => c.user_agent === userAgent)) found = name;
      }
      return found !== undefined;
    },
    5_000,
    `a connection with User-Agent ${userAgent}`,
  );
  return found as Name;
}

/**
 * Opens clients through nginx until one is on each instance; the others are closed.
 * `open` gets the User-Agent the client must send.
 */
async function onEachInstance<T>(
  open: (userAgent: string) => Promise<T>,
  close: (client: T) => void,
): Promise<Record<Name, T>> {
  const got: Partial<Record<Name, T>> = {};
  for (let i = 0; i < 40 && !(got.a && got.b); i++) {
    const userAgent = `nginx-test/${++seq}`;
    const client = await open(userAgent);
    const name = await instanceOf(userAgent);
    if (got[name] === undefined) got[name] = client;
    else close(client);
  }
  if (!got.a || !got.b) throw new Error(`40 clients through nginx, all on one instance`);
  return got as Record<Name, T>;
}

const subscribe = async (c: WsClient, channel: string) => {
  c.send({ action: 'subscribe', payload: { channel } });
  await c.next(isControl(`Subscribed to ${channel}`), 5_000, `the ack of ${channel}`);
};

it("the README's excerpt of deploy/nginx.conf is the file's own lines", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Running several instances'));
  const excerpt = /```nginx\n([\s\S]*?)```/.exec(section)?.[1];
  expect(excerpt).toBeDefined();
  const lines = (text: string) =>
    text
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
  const shipped = new Set(lines(readFileSync(DEPLOY_CONFIG, 'utf8')));
  expect(lines(excerpt ?? '').filter((line) => !shipped.has(line))).toEqual([]);
});

describe(`two instances behind deploy/nginx.conf${skip}`, { skip: skip !== '' }, () => {
  beforeAll(async () => {
    redis = await startRedis();
    cli = redis.client();
    const env = (name: Name) => ({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
      REDIS_URL: redis.url,
      NODE_NAME: name,
      // nginx's address, as the instances see it: its X-Forwarded-For is believed, a client's is not.
      TRUST_PROXY: '127.0.0.1',
      ADMIN_TOKEN,
      PUBLISH_API_KEY,
      NOOP_MS: String(NOOP_MS),
      DATASTREAM_RESUME_DELAY_MS: '0',
      DATASTREAM_BLOCK_MS: '200',
      SHUTDOWN_TIMEOUT_MS: '5000',
    });
    const [a, b] = await Promise.all(NAMES.map((name) => startServerProcess(env(name))));
    instances = { a: a as ServerProcess, b: b as ServerProcess };
    nginx = await startNginx([instances.a.port, instances.b.port]);
  }, 90_000);

  afterAll(async () => {
    for (const close of closers.splice(0)) close();
    await nginx?.stop();
    await Promise.all(NAMES.map((name) => instances?.[name]?.stop()));
    await redis?.stop();
  });

  it('answers through nginx, from both instances', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const res = await fetch(`${nginx.url}/admin/status.json`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(res.status).toBe(200);
      seen.add(((await res.json()) as StatusDocument).node);
    }
    expect([...seen].sort()).toEqual(['a', 'b']);
    const ready = await fetch(`${nginx.url}/readyz`);
    expect(await ready.json()).toEqual({ status: 'OK' });
  });

  describe('WebSocket pub/sub', () => {
    it("a publish on one instance reaches the other's subscriber, both ways", async () => {
      const clients = await onEachInstance(
        (userAgent) => ws('/pubsub', userAgent),
        (c) => c.close(),
      );
      for (const name of NAMES) await subscribe(clients[name], 'across');
      clients.a.send({ action: 'publish', payload: { channel: 'across', message: { from: 'a' } } });
      await clients.b.next(isMessage('across', { from: 'a' }), 5_000, 'the message from a');
      clients.b.send({ action: 'publish', payload: { channel: 'across', message: { from: 'b' } } });
      await clients.a.next(isMessage('across', { from: 'b' }), 5_000, 'the message from b');
      // And a publish over HTTP, through nginx to either instance, reaches both.
      await publishApi(nginx.url, PUBLISH_API_KEY, 'pubsub:across', { from: 'api' });
      for (const name of NAMES)
        await clients[name].next(isMessage('across', { from: 'api' }), 5_000, `api on ${name}`);
    });
  });

  describe.each(['xhr-streaming', 'xhr-polling', 'websocket'])('SockJS over %s', (transport) => {
    it('many sessions, each kept on its instance: every one gets every message, none is lost', async () => {
      const count = 16;
      const channel = `sock.${transport}`;
      const closes: string[] = [];
      const socks = await Promise.all(
        Array.from(
          { length: count },
          () =>
            new Promise<{ sock: SockJS; frames: unknown[] }>((resolve, reject) => {
              const sock = new SockJS(`${nginx.url}/pubsub`, null, { transports: transport });
              const frames: unknown[] = [];
              sock.onmessage = (e) => frames.push(JSON.parse(e.data));
              sock.onopen = () => resolve({ sock, frames });
              sock.onclose = (e) => {
                closes.push(`${e.code} ${e.reason}`);
                reject(new Error(`closed before it opened: ${e.code} ${e.reason}`));
              };
              closers.push(() => sock.close());
            }),
        ),
      );
      /** Waits for `check` on every session; fails at once, saying why, if one is closed. */
      const everySession = (check: (frames: unknown[]) => boolean, what: string) =>
        waitUntil(
          () => {
            if (closes.length > 0) {
              const reasons = [...new Set(closes)].join('; ');
              throw new Error(`${closes.length} sessions closed waiting for ${what}: ${reasons}`);
            }
            return socks.every(({ frames }) => check(frames));
          },
          10_000,
          what,
        );
      for (const { sock } of socks)
        sock.send(JSON.stringify({ action: 'subscribe', payload: { channel } }));
      await everySession(
        (frames) => frames.some(isControl(`Subscribed to ${channel}`)),
        'every session subscribed',
      );
      // The sessions are spread over both instances.
      for (const name of NAMES) {
        const status = await adminStatus(instances[name].url);
        const sessions = status.connections.filter((c) => c.namespace === '/pubsub/ (sockjs)');
        expect(sessions.length, `SockJS sessions on ${name}`).toBeGreaterThan(0);
      }
      // Each publishes (its sends must reach the instance holding its session).
      for (const [i, { sock }] of socks.entries())
        sock.send(JSON.stringify({ action: 'publish', payload: { channel, message: { i } } }));
      const received = (frames: unknown[]) => frames.filter(isMessage(channel)).length;
      await everySession(
        (frames) => received(frames) === count,
        `${count} messages in each of ${count} sessions`,
      );
      for (const { frames } of socks) {
        const is = frames
          .filter(isMessage(channel))
          .map((f) => (f as { message: { i: number } }).message.i);
        expect(is.sort((x, y) => x - y)).toEqual(Array.from({ length: count }, (_, i) => i));
      }
      expect(closes, 'sessions closed by the server').toEqual([]);
      for (const { sock } of socks) {
        sock.onclose = null;
        sock.close();
      }
    });
  });

  it('notification streams: ok, a message, and each noop as it is written', async () => {
    await cli.sadd('user:n1:channels', 'room:n1');
    const streams = await onEachInstance(
      (userAgent) => openNotify(`${nginx.url}/?user=n1`, { headers: { 'User-Agent': userAgent } }),
      (s) => s.close(),
    );
    for (const name of NAMES) {
      const s = streams[name];
      closers.push(() => s.close());
      expect(s.status).toBe(200);
      expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
      await s.waitStatus('ok');
    }
    await publishApi(nginx.url, PUBLISH_API_KEY, 'room:n1', { text: 'hello' });
    for (const name of NAMES) await streams[name].waitMessage('{"text":"hello"}');
    // Each noop (a few bytes) arrives as it is written: nothing on the way holds it back.
    for (const name of NAMES) {
      const s = streams[name];
      const noops = () => s.events().filter((e) => e.data === NOOP).length;
      const before = noops();
      const started = Date.now();
      await s.waitFor(() => noops() >= before + 2, 'two more noops', 6 * NOOP_MS);
      expect(Date.now() - started).toBeLessThan(4 * NOOP_MS);
    }
  });

  it("site streams: POSTs through nginx reach a client on each instance, every one, in order, each instance's own group", async () => {
    await waitUntil(
      async () => {
        const groups = (await cli.xinfo('GROUPS', KEY).catch(() => [])) as unknown[][];
        return groups.length === 2;
      },
      10_000,
      'a consumer group per instance',
    );
    const groups = (await cli.xinfo('GROUPS', KEY)) as unknown[][];
    expect(groups.map((g) => g[1]).sort()).toEqual(['rx-streamer:a', 'rx-streamer:b']);
    const clients = await onEachInstance(
      async (userAgent) => {
        const c = await ws('/datastream?site=obs1', userAgent);
        await c.next(isControl('Subscribed to site obs1'), 5_000, 'the subscription to obs1');
        return c;
      },
      (c) => c.close(),
    );
    const total = 40;
    for (let n = 0; n < total; n++) {
      const res = await fetch(`${nginx.url}/datastream/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ site: 'obs1', topic: 'weather', data: { n } }),
      });
      expect(res.status).toBe(202);
    }
    const ns = (c: WsClient) =>
      c.received
        .filter((f) => (f as { site?: string }).site === 'obs1')
        .map((f) => (f as { data: { n: number } }).data.n);
    await waitUntil(
      () => NAMES.every((name) => ns(clients[name]).length >= total),
      10_000,
      `${total} site messages on each instance`,
    );
    for (const name of NAMES)
      expect(ns(clients[name]), name).toEqual(Array.from({ length: total }, (_, n) => n));
  });

  it("emojitrack: each instance's /subscribe/eps clients get the rollup as it is made", async () => {
    const streams = await onEachInstance(
      (userAgent) =>
        openSse(`${nginx.url}/subscribe/eps`, { headers: { 'User-Agent': userAgent } }),
      (s) => s.close(),
    );
    for (const name of NAMES) {
      closers.push(() => streams[name].close());
      expect(streams[name].headers['content-type']).toMatch(/^text\/event-stream/);
    }
    await waitUntil(
      async () =>
        Number(((await cli.pubsub('NUMSUB', 'stream.score_updates')) as [string, number])[1]) === 2,
      5_000,
      'a score subscription per instance',
    );
    const sent = Date.now();
    await cli.publish('stream.score_updates', '1F602');
    for (const name of NAMES)
      await streams[name].waitFor((events) => events.some((e) => e.data === '{"1F602":1}'), 2_000);
    // The eps window is 16.67 ms: the rollup comes through nginx as soon as it is made.
    expect(Date.now() - sent).toBeLessThan(1_000);
  });

  it('a client that stops reading is dropped by its instance: nginx does not spool its stream', async () => {
    await cli.sadd('user:slow:channels', 'room:slow');
    const userAgent = `nginx-test/${++seq}`;
    const socket = connect(nginx.port, '127.0.0.1');
    closers.push(() => socket.destroy());
    socket.on('error', () => undefined);
    socket.write(
      `GET /?user=slow HTTP/1.1\r\nHost: 127.0.0.1:${nginx.port}\r\nUser-Agent: ${userAgent}\r\n\r\n`,
    );
    let text = '';
    await new Promise<void>((resolve) => {
      const read = (chunk: Buffer) => {
        text += chunk.toString('utf8');
        if (!text.includes('<status>ok</status>')) return;
        socket.off('data', read);
        // From here on nothing is read: what is sent fills the socket buffers on the way.
        socket.pause();
        resolve();
      };
      socket.on('data', read);
    });
    const name = await instanceOf(userAgent);
    const drops = () =>
      instances[name].logs().filter((l) => l.message === 'slow client dropped').length;
    const before = drops();
    // Buffered, nginx would read on for it and spool up to 1 GB to disk; unbuffered,
    // the instance sees its socket fill, and drops it past SSE_MAX_BUFFER_BYTES.
    const chunk = 'x'.repeat(256 * 1024);
    let sent = 0;
    while (drops() === before && sent < 256 * 1024 * 1024) {
      const batch = cli.pipeline();
      for (let i = 0; i < 8; i++) batch.publish('room:slow', chunk);
      await batch.exec();
      sent += 8 * chunk.length;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(drops(), `slow client drops on ${name} after ${sent >> 20} MiB`).toBe(before + 1);
  });

  describe("the client's address", () => {
    /** The client_ip an instance lists for the connection with this User-Agent. */
    async function clientIp(userAgent: string): Promise<string | undefined> {
      const name = await instanceOf(userAgent);
      const status = await adminStatus(instances[name].url);
      return status.connections.find((c) => c.user_agent === userAgent)?.client_ip;
    }
    // What a client claims is kept, and nginx adds what it saw after it.
    const forged = { 'X-Forwarded-For': '203.0.113.9' };

    it('over WebSocket: the address nginx saw, not one the client made up', async () => {
      const userAgent = `nginx-test/${++seq}`;
      const socket = new WebSocket(wsUrl('/pubsub'), {
        localAddress: CLIENT_ADDRESS,
        headers: { ...pageHeaders(userAgent), ...forged },
      });
      closers.push(() => socket.close());
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      expect(await clientIp(userAgent)).toBe(CLIENT_ADDRESS);
    });

    it('over SSE: the same', async () => {
      const userAgent = `nginx-test/${++seq}`;
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = request(`${nginx.url}/subscribe/eps`, {
          localAddress: CLIENT_ADDRESS,
          headers: { 'User-Agent': userAgent, ...forged },
        });
        req.once('response', resolve);
        req.once('error', reject);
        req.end();
        closers.push(() => req.destroy());
      });
      res.on('error', () => undefined);
      expect(res.statusCode).toBe(200);
      expect(await clientIp(userAgent)).toBe(CLIENT_ADDRESS);
    });
  });

  describe('what the shipped config gets right', () => {
    it('Host $http_host: a page on a port of its own connects; with `Host $host` it is refused (403)', async () => {
      await ws('/pubsub');
      const hostOnly = await startNginx([instances.a.port, instances.b.port], (c) =>
        replaceOnce(c, 'proxy_set_header Host $http_host;', 'proxy_set_header Host $host;'),
      );
      try {
        await expect(
          openWs(wsUrl('/pubsub', hostOnly), pageHeaders('nginx-test/host', hostOnly)),
        ).rejects.toThrow(/403/);
      } finally {
        await hostOnly.stop();
      }
    });

    it('the Upgrade headers: without them a WebSocket handshake is a 404', async () => {
      const plain = await startNginx([instances.a.port, instances.b.port], (c) =>
        [
          'proxy_http_version 1.1;',
          'proxy_set_header Upgrade $http_upgrade;',
          'proxy_set_header Connection $rx_streamer_connection;',
        ].reduce((config, line) => replaceOnce(config, line, ''), c),
      );
      try {
        await expect(
          openWs(wsUrl('/pubsub', plain), pageHeaders('nginx-test/plain', plain)),
        ).rejects.toThrow(/404/);
      } finally {
        await plain.stop();
      }
    });
  });

  describe('an instance stopped', () => {
    it('SIGTERM on b: it exits 0, and nginx passes every new connection to a', async () => {
      instances.b.child.kill('SIGTERM');
      expect(await instances.b.exited()).toEqual({ code: 0, signal: null });
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${nginx.url}/admin/status.json`, {
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        expect(res.status).toBe(200);
        expect(((await res.json()) as StatusDocument).node).toBe('a');
      }
      for (let i = 0; i < 6; i++) {
        const userAgent = `nginx-test/${++seq}`;
        await subscribe(await ws('/pubsub', userAgent), 'after');
        expect(await instanceOf(userAgent)).toBe('a');
        const s = await openSse(`${nginx.url}/subscribe/eps`);
        closers.push(() => s.close());
        expect(s.status).toBe(200);
      }
      // SockJS sessions whose ids hashed to b are hashed on to a, all their requests.
      for (let i = 0; i < 4; i++) {
        const frames: unknown[] = [];
        const sock = new SockJS(`${nginx.url}/pubsub`, null, { transports: 'xhr-polling' });
        closers.push(() => sock.close());
        sock.onmessage = (e) => frames.push(JSON.parse(e.data));
        await new Promise<void>((resolve, reject) => {
          sock.onopen = () => resolve();
          sock.onclose = (e) => reject(new Error(`closed: ${e.code} ${e.reason}`));
        });
        sock.send(JSON.stringify({ action: 'subscribe', payload: { channel: 'after' } }));
        await waitUntil(() => frames.some(isControl('Subscribed to after')), 5_000, 'the ack');
        sock.onclose = null;
        sock.close();
      }
      // nginx found b gone by trying it (nginx open source cannot poll /readyz), and
      // passed the requests that found it on to a.
      const [a, b] = [instances.a.port, instances.b.port];
      expect(nginx.access().some((l) => l.includes(` 127.0.0.1:${b}, 127.0.0.1:${a} `))).toBe(true);
      expect(nginx.errors()).toMatch(
        new RegExp(
          `connect\\(\\) failed \\(111: Connection refused\\) while connecting to upstream.*127\\.0\\.0\\.1:${instances.b.port}`,
        ),
      );
    });
  });
});
