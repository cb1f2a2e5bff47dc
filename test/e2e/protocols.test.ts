// Protocol modules through the whole server: PROTOCOLS picks the mounted ones,
// a resolver may be asynchronous and a guard applies to every stream request,
// on the bare socket and through express alike, each request resolved once;
// /metrics reads the same registry as statsd and status.json.
import { Subject, filter } from 'rxjs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStreamer } from '../../src/app.js';
import type { Streamer } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { StreamerError } from '../../src/core/errors.js';
import { builtInProtocols } from '../../src/protocols/builtInProtocols.js';
import { BUILT_IN_PROTOCOLS, loadProtocols } from '../../src/protocols/index.js';
import { defineProtocol } from '../../src/protocols/protocol.js';
import { emojitrack } from '../../src/protocols/emojitrack/index.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { SseConnection } from '../../src/transports/sse/SseConnection.js';
import { sseMessage } from '../../src/transports/sse/sseEncode.js';
import { openSse } from '../support/sse.js';

const USERS = new Set(['ann', 'bob']);
let resolved = 0;
const notes = new Subject<{ user: string; text: string }>();

/**
 * Per-user notes behind a bearer key; the user is looked up asynchronously. Its
 * variable is read with zod, as a protocol may: any Standard Schema will do.
 */
const notesProtocol = defineProtocol({
  name: 'notes',
  config: z.object({ NOTES_KEY: z.string().min(3).default('key') }),
  start({ hub, streams }, { NOTES_KEY: key }) {
    hub.addFamily('notes', {
      topicFeed: (user) => notes.pipe(filter((n) => n.user === user)),
      encode: { sse: (n: { text: string }) => sseMessage({ data: n.text }) },
    });
    streams.guard((request) => {
      if (request.header('authorization') !== `Bearer ${key}`) {
        throw new StreamerError('RXS_ERR_UNAUTHORIZED', 'a bearer key is needed', 401);
      }
    });
    streams.add('/notes', async (request) => {
      resolved++;
      const user = request.query.get('user') ?? '';
      await new Promise((r) => setTimeout(r, 5)); // a look-up elsewhere
      if (!USERS.has(user)) {
        throw new StreamerError('RXS_ERR_BAD_REQUEST', `unknown user "${user}"`, 400);
      }
      return { family: 'notes', topic: user, namespace: `/notes/${user}` };
    });
    return { status: () => ({ notes_users: hub.topicCount('notes') }) };
  },
});

let streamer: Streamer;
let url: string;
const bus = new MemoryBus();

beforeAll(async () => {
  const env = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', NOTES_KEY: 'sesame' };
  streamer = createStreamer({
    config: loadConfig(env),
    source: bus,
    protocols: [emojitrack, notesProtocol],
  });
  url = `http://127.0.0.1:${(await streamer.listen()).port}`;
});
afterAll(() => streamer.close());

const auth = { headers: { Authorization: 'Bearer sesame' } };

describe('asynchronous resolvers and guards', () => {
  it('opens a stream decided asynchronously on the bare socket, and delivers to it', async () => {
    const s = await openSse(`${url}/notes?user=ann`, auth);
    expect(s.status).toBe(200);
    expect(s.headers['access-control-allow-origin']).toBe('*');
    notes.next({ user: 'bob', text: 'not for ann' });
    notes.next({ user: 'ann', text: 'hello ann' });
    await s.waitFor((events) => events.length === 1);
    expect(s.events().map((e) => e.data)).toEqual(['hello ann']);
    const connections = [...streamer.hub.connected()];
    expect(connections.map((c) => c instanceof SseConnection && c.onBareSocket)).toEqual([true]);
    expect(connections[0]?.info.namespace).toBe('/notes/ann');
    s.close();
  });

  it('applies the guard on the fast path and through express (HEAD)', async () => {
    const bare = await fetch(`${url}/notes?user=ann`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ code: 'RXS_ERR_UNAUTHORIZED', statusCode: 401 });
    const head = await fetch(`${url}/notes?user=ann`, { method: 'HEAD' });
    expect(head.status).toBe(401);
    const allowed = await fetch(`${url}/notes?user=ann`, { method: 'HEAD', ...auth });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  });

  it("resolves a refused request once, and answers it with the resolver's error", async () => {
    const before = resolved;
    const res = await fetch(`${url}/notes?user=eve`, auth);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: 'RXS_ERR_BAD_REQUEST',
      message: 'unknown user "eve"',
    });
    expect(resolved - before).toBe(1);
  });

  it("puts the protocol's status fields in status.json", async () => {
    const s = await openSse(`${url}/notes?user=bob`, auth);
    const status = (await (await fetch(`${url}/admin/status.json`)).json()) as Record<
      string,
      unknown
    >;
    expect(status.protocols).toEqual(['emojitrack', 'notes']);
    expect(status.notes_users).toBe(1);
    s.close();
  });
});

describe('/metrics', () => {
  it('reads the registry in the Prometheus text format', async () => {
    // The notes guard checks every stream request, emojitrack's too.
    const s = await openSse(`${url}/subscribe/raw`, auth);
    bus.publish('stream.score_updates', '1F602');
    await s.waitFor((events) => events.length === 1);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    const families = parsePrometheusTextFormat(await res.text());
    const value = (name: string) => families.find((f) => f.name === name)?.metrics[0]?.value;
    expect(families.find((f) => f.name === 'rx_streamer_stream_raw_clients')?.type).toBe('GAUGE');
    expect(value('rx_streamer_stream_raw_clients')).toBe('1');
    expect(Number(value('rx_streamer_stream_messages_in_total'))).toBeGreaterThanOrEqual(1);
    expect(Number(value('rx_streamer_stream_messages_delivered_total'))).toBeGreaterThanOrEqual(1);
    expect(families.find((f) => f.name === 'rx_streamer_stream_fanout_seconds')?.type).toBe(
      'HISTOGRAM',
    );
    s.close();
  });
});

describe('PROTOCOLS', () => {
  it('mounts only the protocols it names', async () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      PROTOCOLS: 'notes',
    });
    const only = createStreamer({
      config,
      source: new MemoryBus(),
      protocols: [emojitrack, notesProtocol],
    });
    const base = `http://127.0.0.1:${(await only.listen()).port}`;
    try {
      expect([...only.protocols.keys()]).toEqual(['notes']);
      expect((await fetch(`${base}/subscribe/eps`)).status).toBe(404);
      expect(only.hub.familyNames()).toEqual(['notes']);
      const status = (await (await fetch(`${base}/admin/status.json`)).json()) as Record<
        string,
        unknown
      >;
      expect(status.protocols).toEqual(['notes']);
    } finally {
      await only.close();
    }
  });

  it('names the variable and the protocols there are for an unknown name', () => {
    const config = loadConfig({ PROTOCOLS: 'emojitrack, pubsub' });
    expect(() =>
      createStreamer({ config, source: new MemoryBus(), protocols: [emojitrack] }),
    ).toThrow(
      'PROTOCOLS="emojitrack,pubsub" is not valid: expected a comma-separated list of emojitrack',
    );
  });

  it('has the server import the built-in modules it names, in its order, each configured', async () => {
    expect(BUILT_IN_PROTOCOLS).toEqual(builtInProtocols().map((m) => m.name));
    const every = await loadProtocols(loadConfig({}));
    expect(every.map((p) => p.module.name)).toEqual(BUILT_IN_PROTOCOLS);
    const two = await loadProtocols(
      loadConfig({ PROTOCOLS: 'pubsub, emojitrack', EPS_INTERVAL_MS: '50' }),
    );
    expect(two.map((p) => p.module.name)).toEqual(['pubsub', 'emojitrack']);
    expect(two[1]?.config).toMatchObject({ epsIntervalMs: 50 });
    // PUBLIC_PROTOCOLS may name a built-in one that is not started.
    const one = await loadProtocols(
      loadConfig({ PROTOCOLS: 'emojitrack', PUBLIC_PROTOCOLS: 'pubsub' }),
    );
    expect(one.map((p) => p.module.name)).toEqual(['emojitrack']);
  });

  it('refuses a bad name, a bad variable or an open protocol, naming it', async () => {
    await expect(loadProtocols(loadConfig({ PROTOCOLS: 'emojitrack,chat' }))).rejects.toThrow(
      'PROTOCOLS="emojitrack,chat" is not valid: expected a comma-separated list of emojitrack, notifications, pubsub, datastream',
    );
    await expect(loadProtocols(loadConfig({ PUBLIC_PROTOCOLS: 'chat' }))).rejects.toThrow(
      'PUBLIC_PROTOCOLS="chat" is not valid: "chat" is none of emojitrack, notifications, pubsub, datastream',
    );
    await expect(
      loadProtocols(loadConfig({ PROTOCOLS: 'emojitrack', EPS_INTERVAL_MS: 'often' })),
    ).rejects.toThrow(/EPS_INTERVAL_MS/);
    await expect(
      loadProtocols(loadConfig({ NODE_ENV: 'production', PROTOCOLS: 'pubsub' })),
    ).rejects.toThrow(/pubsub would serve anyone in production/);
  });
});
