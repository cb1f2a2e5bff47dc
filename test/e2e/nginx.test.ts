// Several instances behind nginx, as deploy/nginx.conf ships (only its ports
// swapped): two server processes on a six-node Redis Cluster with pub/sub
// channels sharded (test/support/nginxPair.ts), and every protocol used through
// the proxy across them. A master failing over under them is
// test/e2e/nginxFailover.test.ts.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import SockJS from 'sockjs-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DEPLOY_CONFIG, replaceOnce, startNginx } from '../support/nginx.js';
import {
  NAMES,
  PUBLISH_API_KEY,
  QUEUE,
  noNginx,
  pageHeaders,
  startNginxPair,
  wsUrl,
} from '../support/nginxPair.js';
import type { NginxPair } from '../support/nginxPair.js';
import { NOOP, openNotify } from '../support/notify.js';
import { publishApi } from '../support/publish.js';
import { openSse, waitUntil } from '../support/sse.js';
import { ADMIN_TOKEN, adminStatus } from '../support/status.js';
import type { StatusDocument } from '../support/status.js';
import { isControl, isMessage, openWs, subscribe } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

const NOOP_MS = 300;
/** Another loopback address for the test's clients, so that nginx's own (127.0.0.1) differs. */
const CLIENT_ADDRESS = '127.0.0.2';

let pair: NginxPair;

/** Subscribers of a classic channel on the whole cluster: each node counts its own. */
/**
 * Subscribers of a classic channel over every node: each counts only its own, and
 * an instance's subscriber connection may be on any node, replicas included (a
 * Cluster client's own node list may not hold them all yet).
 */
async function numsub(channel: string): Promise<number> {
  const counts = await Promise.all(
    pair.cluster.ports.map(async (port) => {
      const node = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
      node.on('error', () => undefined);
      try {
        return Number(((await node.pubsub('NUMSUB', channel)) as [string, number])[1]);
      } catch {
        return 0;
      } finally {
        node.disconnect();
      }
    }),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}

it("docs/deployment.md's excerpt of deploy/nginx.conf is the file's own lines", () => {
  const guide = readFileSync(new URL('../../docs/deployment.md', import.meta.url), 'utf8');
  const section = guide.slice(guide.indexOf('### Behind nginx'));
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

describe(`two instances on a cluster behind nginx${noNginx}`, { skip: noNginx !== '' }, () => {
  beforeAll(async () => {
    pair = await startNginxPair({ NOOP_MS: String(NOOP_MS) });
  }, 90_000);

  afterAll(async () => {
    await pair?.stop();
  });

  it('answers through nginx, from both instances', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const res = await fetch(`${pair.nginx.url}/admin/status.json`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(res.status).toBe(200);
      seen.add(((await res.json()) as StatusDocument).node);
    }
    expect([...seen].sort()).toEqual(['a', 'b']);
    const ready = await fetch(`${pair.nginx.url}/readyz`);
    expect(await ready.json()).toEqual({ status: 'OK' });
  });

  describe('WebSocket pub/sub', () => {
    it("a publish on one instance reaches the other's subscriber, both ways", async () => {
      const clients = await pair.onEachInstance(
        (userAgent) => pair.ws('/pubsub', userAgent),
        (c) => c.close(),
      );
      for (const name of NAMES) await subscribe(clients[name], 'across');
      clients.a.send({
        action: 'publish',
        payload: { channel: 'across', message: { from: 'a' } },
      });
      await clients.b.next(isMessage('across', { from: 'a' }), 5_000, 'the message from a');
      clients.b.send({
        action: 'publish',
        payload: { channel: 'across', message: { from: 'b' } },
      });
      await clients.a.next(isMessage('across', { from: 'b' }), 5_000, 'the message from b');
      // And a publish over HTTP, through nginx to either instance, reaches both.
      await publishApi(pair.nginx.url, PUBLISH_API_KEY, 'pubsub:across', { from: 'api' });
      for (const name of NAMES)
        await clients[name].next(isMessage('across', { from: 'api' }), 5_000, `api on ${name}`);
    });

    it("an outside SPUBLISH on the channel's shard reaches the subscribers of both instances", async () => {
      const clients = await pair.onEachInstance(
        (userAgent) => pair.ws('/pubsub', userAgent),
        (c) => c.close(),
      );
      for (const name of NAMES) await subscribe(clients[name], 'outside');
      // Sharded: it goes to the master of its slot, where each instance holds an SSUBSCRIBE.
      expect(await pair.cli.spublish('pubsub:outside', '{"from":"spublish"}')).toBe(2);
      for (const name of NAMES)
        await clients[name].next(
          isMessage('outside', { from: 'spublish' }),
          5_000,
          `the SPUBLISH on ${name}`,
        );
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
              const sock = new SockJS(`${pair.nginx.url}/pubsub`, null, {
                transports: transport,
              });
              const frames: unknown[] = [];
              sock.onmessage = (e) => frames.push(JSON.parse(e.data));
              sock.onopen = () => resolve({ sock, frames });
              sock.onclose = (e) => {
                closes.push(`${e.code} ${e.reason}`);
                reject(new Error(`closed before it opened: ${e.code} ${e.reason}`));
              };
              pair.closeLater(() => sock.close());
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
      // The sessions are spread over both pair.instances.
      for (const name of NAMES) {
        const status = await adminStatus(pair.instances[name].url);
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
    await pair.cli.sadd('user:n1:channels', 'room:n1');
    const streams = await pair.onEachInstance(
      (userAgent) =>
        openNotify(`${pair.nginx.url}/?user=n1`, { headers: { 'User-Agent': userAgent } }),
      (s) => s.close(),
    );
    for (const name of NAMES) {
      const s = streams[name];
      pair.closeLater(() => s.close());
      expect(s.status).toBe(200);
      expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
      await s.waitStatus('ok');
    }
    await publishApi(pair.nginx.url, PUBLISH_API_KEY, 'room:n1', { text: 'hello' });
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
        const groups = (await pair.cli.xinfo('GROUPS', QUEUE).catch(() => [])) as unknown[][];
        return groups.length === 2;
      },
      10_000,
      'a consumer group per instance',
    );
    const groups = (await pair.cli.xinfo('GROUPS', QUEUE)) as unknown[][];
    expect(groups.map((g) => g[1]).sort()).toEqual(['rx-streamer:a', 'rx-streamer:b']);
    const clients = await pair.onEachInstance(
      async (userAgent) => {
        const c = await pair.ws('/datastream?site=obs1', userAgent);
        await c.next(isControl('Subscribed to site obs1'), 5_000, 'the subscription to obs1');
        return c;
      },
      (c) => c.close(),
    );
    const total = 40;
    for (let n = 0; n < total; n++) {
      const res = await fetch(`${pair.nginx.url}/datastream/messages`, {
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
    const streams = await pair.onEachInstance(
      (userAgent) =>
        openSse(`${pair.nginx.url}/subscribe/eps`, { headers: { 'User-Agent': userAgent } }),
      (s) => s.close(),
    );
    for (const name of NAMES) {
      pair.closeLater(() => streams[name].close());
      expect(streams[name].headers['content-type']).toMatch(/^text\/event-stream/);
    }
    await waitUntil(
      async () => (await numsub('stream.score_updates')) === 2,
      10_000,
      'a score subscription per instance',
    );
    const sent = Date.now();
    await pair.cli.publish('stream.score_updates', '1F602');
    for (const name of NAMES)
      await streams[name].waitFor((events) => events.some((e) => e.data === '{"1F602":1}'), 2_000);
    // The eps window is 16.67 ms: the rollup comes through nginx as soon as it is made.
    expect(Date.now() - sent).toBeLessThan(1_000);
  });

  it('a client that stops reading is dropped by its instance: nginx does not spool its stream', async () => {
    await pair.cli.sadd('user:slow:channels', 'room:slow');
    const userAgent = pair.userAgent();
    const socket = connect(pair.nginx.port, '127.0.0.1');
    pair.closeLater(() => socket.destroy());
    socket.on('error', () => undefined);
    socket.write(
      `GET /?user=slow HTTP/1.1\r\nHost: 127.0.0.1:${pair.nginx.port}\r\nUser-Agent: ${userAgent}\r\n\r\n`,
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
    const name = await pair.instanceOf(userAgent);
    const drops = () =>
      pair.instances[name].logs().filter((l) => l.message === 'slow client dropped').length;
    const before = drops();
    // Buffered, nginx would read on for it and spool up to 1 GB to disk; unbuffered,
    // the instance sees its socket fill, and drops it past SSE_MAX_BUFFER_BYTES.
    const chunk = 'x'.repeat(256 * 1024);
    let sent = 0;
    while (drops() === before && sent < 256 * 1024 * 1024) {
      const batch = pair.cli.pipeline();
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
      const name = await pair.instanceOf(userAgent);
      const status = await adminStatus(pair.instances[name].url);
      return status.connections.find((c) => c.user_agent === userAgent)?.client_ip;
    }
    // What a client claims is kept, and nginx adds what it saw after it.
    const forged = { 'X-Forwarded-For': '203.0.113.9' };

    it('over WebSocket: the address nginx saw, not one the client made up', async () => {
      const userAgent = pair.userAgent();
      const socket = new WebSocket(wsUrl('/pubsub', pair.nginx), {
        localAddress: CLIENT_ADDRESS,
        headers: { ...pageHeaders(userAgent, pair.nginx), ...forged },
      });
      pair.closeLater(() => socket.close());
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      expect(await clientIp(userAgent)).toBe(CLIENT_ADDRESS);
    });

    it('over SSE: the same', async () => {
      const userAgent = pair.userAgent();
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = request(`${pair.nginx.url}/subscribe/eps`, {
          localAddress: CLIENT_ADDRESS,
          headers: { 'User-Agent': userAgent, ...forged },
        });
        req.once('response', resolve);
        req.once('error', reject);
        req.end();
        pair.closeLater(() => req.destroy());
      });
      res.on('error', () => undefined);
      expect(res.statusCode).toBe(200);
      expect(await clientIp(userAgent)).toBe(CLIENT_ADDRESS);
    });
  });

  describe('what the shipped config gets right', () => {
    it('Host $http_host: a page on a port of its own connects; with `Host $host` it is refused (403)', async () => {
      await pair.ws('/pubsub');
      const hostOnly = await startNginx([pair.instances.a.port, pair.instances.b.port], (c) =>
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
      const plain = await startNginx([pair.instances.a.port, pair.instances.b.port], (c) =>
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
      pair.instances.b.child.kill('SIGTERM');
      expect(await pair.instances.b.exited()).toEqual({ code: 0, signal: null });
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${pair.nginx.url}/admin/status.json`, {
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        expect(res.status).toBe(200);
        expect(((await res.json()) as StatusDocument).node).toBe('a');
      }
      for (let i = 0; i < 6; i++) {
        const userAgent = pair.userAgent();
        await subscribe(await pair.ws('/pubsub', userAgent), 'after');
        expect(await pair.instanceOf(userAgent)).toBe('a');
        const s = await openSse(`${pair.nginx.url}/subscribe/eps`);
        pair.closeLater(() => s.close());
        expect(s.status).toBe(200);
      }
      // SockJS sessions whose ids hashed to b are hashed on to a, all their requests.
      for (let i = 0; i < 4; i++) {
        const frames: unknown[] = [];
        const sock = new SockJS(`${pair.nginx.url}/pubsub`, null, { transports: 'xhr-polling' });
        pair.closeLater(() => sock.close());
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
      const [a, b] = [pair.instances.a.port, pair.instances.b.port];
      expect(pair.nginx.access().some((l) => l.includes(` 127.0.0.1:${b}, 127.0.0.1:${a} `))).toBe(
        true,
      );
      expect(pair.nginx.errors()).toMatch(
        new RegExp(
          `connect\\(\\) failed \\(111: Connection refused\\) while connecting to upstream.*127\\.0\\.0\\.1:${pair.instances.b.port}`,
        ),
      );
    });
  });
});
