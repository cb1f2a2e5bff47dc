// The bounds an operator sets: connections in all, connections per client IP
// (SSE streams and WebSocket clients counted together) and distinct topics.
// Over a bound a stream gets a 503 with Retry-After and a JSON body, a
// WebSocket handshake is refused the same way, a subscription past the topic
// bound gets a control error; each is counted, and everyone else keeps streaming.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { waitUntil } from '../support/sse.js';
import { isControl, openWs, rawUpgrade } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';
import { streamFrom } from '../ops/clientFrom.js';
import type { StreamFrom } from '../ops/clientFrom.js';

let app: TestApp | undefined;
let bus: MemoryBus;
const open: { close(): void }[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) s.close();
  await app?.close();
  app = undefined;
});

async function start(env: Record<string, string>): Promise<TestApp> {
  bus = new MemoryBus();
  app = await startApp({ source: bus, env: { EPS_INTERVAL_MS: '20', ...env } });
  return app;
}
async function from(ip: string, path: string): Promise<StreamFrom> {
  const s = await streamFrom(`${app?.url}${path}`, ip);
  open.push(s);
  return s;
}
async function ws(path = '/pubsub'): Promise<WsClient> {
  const c = await openWs(`ws://127.0.0.1:${app?.port}${path}`);
  open.push(c);
  return c;
}
const counter = (name: string) => app?.streamer.metrics.read().counters[name];
const bodyOf = (s: StreamFrom) => JSON.parse(s.text()) as { code: string; message: string };
/** A stream refused by a bound: 503, Retry-After, a JSON body naming the variable. */
async function expectRefused(s: StreamFrom, variable: string): Promise<void> {
  expect(s.status).toBe(503);
  expect(s.headers['retry-after']).toBe('10');
  await s.ended();
  expect(bodyOf(s)).toMatchObject({ code: 'RXS_ERR_UNAVAILABLE' });
  expect(bodyOf(s).message).toContain(variable);
}

describe('MAX_CONNECTIONS_PER_IP', () => {
  it('refuses one address its next stream or handshake, and no one else', async () => {
    await start({ MAX_CONNECTIONS_PER_IP: '2' });
    const a = await from('127.0.0.1', '/subscribe/eps');
    await ws();
    await waitUntil(() => app?.streamer.hub.clientCount() === 2);

    await expectRefused(await from('127.0.0.1', '/subscribe/eps'), 'MAX_CONNECTIONS_PER_IP');
    const handshake = await rawUpgrade(app?.port ?? 0, '/pubsub');
    expect(handshake).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(handshake).toContain('Retry-After: 10');
    expect(counter('stream.connections.refused')).toBe(2);

    // Another address is served, and the first keeps its stream.
    const b = await from('127.0.0.2', '/subscribe/eps');
    expect(b.status).toBe(200);
    bus.publish('stream.score_updates', '2665');
    await waitUntil(() => a.text().includes('"2665":1') && b.text().includes('"2665":1'));

    // A closed stream frees its place.
    a.close();
    await waitUntil(() => app?.streamer.hub.clientCount() === 2);
    expect((await from('127.0.0.1', '/subscribe/eps')).status).toBe(200);
  });
});

describe('MAX_CONNECTIONS', () => {
  it('bounds every transport together', async () => {
    await start({ MAX_CONNECTIONS: '2' });
    await from('127.0.0.1', '/subscribe/eps');
    await from('127.0.0.2', '/subscribe/details/2665');
    await waitUntil(() => app?.streamer.hub.clientCount() === 2);
    await expectRefused(await from('127.0.0.3', '/subscribe/eps'), 'MAX_CONNECTIONS');
    expect(await rawUpgrade(app?.port ?? 0, '/pubsub')).toMatch(/^HTTP\/1\.1 503 /);
    expect(app?.streamer.hub.clientCount()).toBe(2);
  });
});

describe('MAX_TOPICS', () => {
  it('refuses a stream or subscription that would make one topic too many', async () => {
    await start({ MAX_TOPICS: '2' });
    const first = await from('127.0.0.1', '/subscribe/details/2665');
    await from('127.0.0.1', '/subscribe/details/1F602');
    await waitUntil(() => app?.streamer.hub.topicCount() === 2);

    await expectRefused(await from('127.0.0.1', '/subscribe/details/2764'), 'MAX_TOPICS');
    // A topic that is already there takes more clients.
    expect((await from('127.0.0.2', '/subscribe/details/2665')).status).toBe(200);

    const c = await ws();
    c.send({ action: 'subscribe', payload: { channel: 'room.new' } });
    await c.next(isControl(/MAX_TOPICS/, true), 5_000, 'the refusal');
    expect(counter('stream.topics.refused')).toBe(2);
    expect(app?.streamer.hub.topicCount()).toBe(2);
    expect(first.isEnded()).toBe(false);
  });
});

describe('the configuration', () => {
  it('reads the bounds and the listen backlog, and names a bad one', () => {
    const config = loadConfig({
      MAX_CONNECTIONS: '50000',
      MAX_CONNECTIONS_PER_IP: '20',
      MAX_TOPICS: '1000',
      LISTEN_BACKLOG: '4096',
    });
    expect(config).toMatchObject({
      maxConnections: 50_000,
      maxConnectionsPerIp: 20,
      maxTopics: 1000,
      listenBacklog: 4096,
    });
    expect(loadConfig({})).toMatchObject({
      maxConnections: 0,
      maxTopics: 100_000,
      listenBacklog: 511,
    });
    expect(() => loadConfig({ MAX_CONNECTIONS_PER_IP: '-1' })).toThrow(/MAX_CONNECTIONS_PER_IP/);
    expect(() => loadConfig({ LISTEN_BACKLOG: '0' })).toThrow(/LISTEN_BACKLOG/);
  });
});
