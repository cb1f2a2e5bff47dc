// WORKERS=2 with SockJS: the primary routes each connection by the session its
// first request names, so that every request of a session reaches the worker
// that holds it. sockjs-client in Node (whose requests share a keep-alive agent)
// runs 20 sessions at once on each transport against /pubsub/, through Redis
// across both workers, without a "Server lost session"; SSE streams, plain
// WebSockets and client addresses still work through the primary, a request
// body sent apart from its head reaches the worker whole, a worker that dies is
// replaced in its slot, and SIGTERM still ends everything with exit code 0.
import { connect } from 'node:net';
import SockJS from 'sockjs-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdOf, slotOf } from '../../src/transports/http/sessionRoute.js';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { freePort, startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { openSse, waitUntil } from '../support/sse.js';
import { ADMIN_TOKEN } from '../support/status.js';
import { isControl, isMessage, openWs } from '../support/ws.js';
import { streamFrom } from './clientFrom.js';

const SESSIONS = 20;
let redis: TestRedis;
let server: ServerProcess;

interface Status {
  worker: number;
  pid: number;
  connections: { client_ip: string; namespace: string; channels?: string[] }[];
}

/** One worker's status (each request comes on a connection of its own, routed in turn). */
async function status(): Promise<Status> {
  const res = await fetch(`${server.url}/admin/status.json`, {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return (await res.json()) as Status;
}

/** Every worker's status, by worker id. */
async function everyWorker(count = 2): Promise<Map<number, Status>> {
  const seen = new Map<number, Status>();
  await waitUntil(
    async () => {
      const s = await status();
      seen.set(s.worker, s);
      return seen.size === count;
    },
    10_000,
    'a status from every worker',
  );
  return seen;
}

const listeningWorkers = () => server.logs().filter((l) => l.message.includes('listening')).length;

beforeAll(async () => {
  redis = await startRedis();
  server = await startServerProcess({
    WORKERS: '2',
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    NODE_NAME: 'sticky',
    LOG_LEVEL: 'info',
    ADMIN_TOKEN,
  });
  await waitUntil(() => listeningWorkers() === 2, 20_000, 'two workers');
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await redis?.stop();
});

interface Client {
  readonly sock: SockJS;
  readonly frames: unknown[];
  /** Set when the server closed the session: nothing here closes one before the end. */
  closed: { code: number; reason: string } | undefined;
  next(match: (frame: unknown) => boolean, what: string): Promise<void>;
}

/** A sockjs-client session on one transport, opened, keeping every frame it gets. */
function openSockJs(path: string, transport: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const sock = new SockJS(`${server.url}${path}`, null, { transports: transport });
    const frames: unknown[] = [];
    const waiters = new Set<() => void>();
    const client: Client = {
      sock,
      frames,
      closed: undefined,
      next: (match, what) =>
        new Promise<void>((res, rej) => {
          const timer = setTimeout(() => {
            waiters.delete(check);
            rej(new Error(`timed out waiting for ${what} over ${transport}`));
          }, 15_000);
          const check = () => {
            if (frames.some(match)) {
              clearTimeout(timer);
              waiters.delete(check);
              res();
            } else if (client.closed) {
              clearTimeout(timer);
              waiters.delete(check);
              rej(new Error(`closed ${JSON.stringify(client.closed)} waiting for ${what}`));
            }
          };
          waiters.add(check);
          check();
        }),
    };
    sock.onopen = () => resolve(client);
    sock.onmessage = (e) => {
      frames.push(JSON.parse(e.data));
      for (const w of [...waiters]) w();
    };
    sock.onclose = (e) => {
      client.closed = { code: e.code, reason: e.reason };
      for (const w of [...waiters]) w();
      reject(new Error(`closed ${e.code} ${e.reason} before it opened (${transport})`));
    };
  });
}

const subscribe = (channel: string) =>
  JSON.stringify({ action: 'subscribe', payload: { channel } });
const publish = (channel: string, message: unknown) =>
  JSON.stringify({ action: 'publish', payload: { channel, message } });

describe.each(['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource'])(
  'sockjs-client over %s',
  (transport) => {
    it(`keeps ${SESSIONS} sessions, spread over both workers, each on its worker`, async () => {
      const channel = `sticky.${transport}`;
      const clients = await Promise.all(
        Array.from({ length: SESSIONS }, () => openSockJs('/pubsub', transport)),
      );
      expect(clients.every((c) => c.sock.transport === transport)).toBe(true);
      for (const c of clients) c.sock.send(subscribe(channel));
      await Promise.all(
        clients.map((c) => c.next(isControl(`Subscribed to ${channel}`), 'the subscription')),
      );

      // Both workers hold sessions of this transport, and every session is counted once.
      const perWorker = [...(await everyWorker()).values()].map(
        (s) => s.connections.filter((c) => c.channels?.includes(channel)).length,
      );
      expect(perWorker.reduce((a, b) => a + b)).toBe(SESSIONS);
      expect(perWorker.every((n) => n > 0)).toBe(true);

      // A plain WebSocket client through the primary, on whichever worker.
      const ws = await openWs(`ws://127.0.0.1:${server.port}/pubsub`);
      ws.send({ action: 'subscribe', payload: { channel } });
      await ws.next(isControl(`Subscribed to ${channel}`));
      for (let round = 1; round <= 3; round++) {
        ws.send({ action: 'publish', payload: { channel, message: { round } } });
        await Promise.all(
          clients.map((c) => c.next(isMessage(channel, { round }), `round ${round}`)),
        );
        // Each session's sends (a request each over HTTP) reach its own worker.
        clients.forEach((c, i) => c.sock.send(publish(channel, { round, from: i })));
        await waitUntil(
          () => clients.every((_c, i) => ws.received.some(isMessage(channel, { round, from: i }))),
          10_000,
          `every session's publish of round ${round}`,
        );
      }
      ws.close();

      expect(clients.map((c) => c.closed).filter(Boolean)).toEqual([]);
      for (const c of clients) c.sock.close();
    }, 90_000);
  },
);

it('still serves SSE streams, with the client address, through the primary', async () => {
  const eps = await openSse(`${server.url}/subscribe/eps`);
  const raw = await streamFrom(`${server.url}/subscribe/raw`, '127.0.0.5');
  expect([eps.status, raw.status]).toEqual([200, 200]);
  const pub = redis.client();
  const numsub = async () =>
    Number(((await pub.pubsub('NUMSUB', 'stream.score_updates')) as [string, number])[1]);
  await waitUntil(async () => (await numsub()) === 2, 10_000, 'a subscription per worker');
  await waitUntil(
    async () => {
      await pub.publish('stream.score_updates', '1F602');
      return raw.text().includes('data:1F602') && eps.events().length > 0;
    },
    15_000,
    'data on both streams',
  );
  const addresses = [...(await everyWorker()).values()].flatMap((s) =>
    s.connections.map((c) => c.client_ip),
  );
  expect(addresses).toContain('127.0.0.5');
  eps.close();
  raw.close();
});

/** Sends a request as given, in parts `gapMs` apart, and resolves with the whole answer. */
function rawRequest(parts: string[], gapMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    socket.setNoDelay(true);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => {
      socket.destroy();
      resolve(answer);
    });
    const write = (i: number) => {
      if (i >= parts.length) return;
      socket.write(parts[i] as string);
      if (gapMs === 0) setImmediate(() => write(i + 1));
      else setTimeout(() => write(i + 1), gapMs);
    };
    write(0);
  });
}

it('hands a request on whole when its body comes after the head (the primary stops reading)', async () => {
  // Sessions whose ids name each slot in turn, over SockJS's raw xhr transport.
  for (let n = 0; n < 40; n++) {
    const path = `/pubsub/000/body${n}`;
    const opened = await rawRequest(
      [`POST ${path}/xhr HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`],
      0,
    );
    expect(opened.slice(opened.indexOf('\r\n\r\n'))).toContain('o\n');
    expect(opened).toContain('Connection: close');
    const body = JSON.stringify([subscribe(`body.${n}`)]);
    const head = `POST ${path}/xhr_send HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    // The body a moment after the head (the next turn of the loop, then 20 ms): both
    // within the time the primary takes to pass the connection on, and after it.
    const sent = await rawRequest([head, body], n % 2 === 0 ? 0 : 20);
    expect(sent.split('\r\n')[0]).toBe('HTTP/1.1 204 No Content');
    const polled = await rawRequest(
      [`POST ${path}/xhr HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`],
      0,
    );
    expect(polled).toContain(`Subscribed to body.${n}`);
  }
});

it('sent the sessions of the test above to both workers’ slots', () => {
  const slots = Array.from({ length: 40 }, (_, n) =>
    slotOf(sessionIdOf(`/pubsub/000/body${n}/xhr`) ?? '', 2),
  );
  expect(new Set(slots)).toEqual(new Set([0, 1]));
});

it('puts a dead worker’s replacement in its slot, with the sessions hashed to it', async () => {
  const victim = [...(await everyWorker()).values()][0] as Status;
  process.kill(victim.pid, 'SIGKILL');
  await waitUntil(
    () => server.logs().some((l) => l.message === 'worker died; starting another'),
    10_000,
    'the primary to hear of it',
  );
  const died = server.logs().find((l) => l.message === 'worker died; starting another');
  const slot = died?.slot as number;
  // A session hashed to the dead worker's slot waits for its replacement.
  let n = 0;
  while (slotOf(`dead${n}`, 2) !== slot) n++;
  const waited = Date.now();
  const opened = await rawRequest(
    [`POST /pubsub/000/dead${n}/xhr HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`],
    0,
  );
  expect(opened.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  expect(opened.slice(opened.indexOf('\r\n\r\n'))).toContain('o\n');
  expect(listeningWorkers()).toBe(3);
  console.info(`a session of the dead worker's slot waited ${Date.now() - waited} ms`);

  const workers = await everyWorker();
  expect([...workers.values()].map((s) => s.pid)).not.toContain(victim.pid);
  const clients = await Promise.all(
    Array.from({ length: SESSIONS }, () => openSockJs('/pubsub', 'xhr-polling')),
  );
  for (const c of clients) c.sock.send(subscribe('after.death'));
  await Promise.all(
    clients.map((c) => c.next(isControl('Subscribed to after.death'), 'the subscription')),
  );
  const perWorker = [...(await everyWorker()).values()].map(
    (s) => s.connections.filter((c) => c.channels?.includes('after.death')).length,
  );
  expect(perWorker.reduce((a, b) => a + b)).toBe(SESSIONS);
  expect(perWorker.every((k) => k > 0)).toBe(true);
  expect(clients.map((c) => c.closed).filter(Boolean)).toEqual([]);
  for (const c of clients) c.sock.close();
}, 60_000);

it('on SIGTERM stops accepting, ends streams and sessions, and exits 0', async () => {
  const streams = await Promise.all(
    Array.from({ length: 4 }, () => openSse(`${server.url}/subscribe/raw`)),
  );
  const clients = await Promise.all(
    Array.from({ length: 4 }, () => openSockJs('/pubsub', 'xhr-streaming')),
  );
  server.child.kill('SIGTERM');
  const { code } = await server.exited();
  expect(code).toBe(0);
  await Promise.all(streams.map((s) => s.ended()));
  expect(streams.map((s) => /retry:\d+\n\n$/.test(s.text()))).toEqual([true, true, true, true]);
  await waitUntil(() => clients.every((c) => c.closed !== undefined), 10_000, 'sessions closed');
  await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
}, 60_000);
