// docs/library.md's custom protocol, run as written (the test checks that the guide
// shows exactly this code): a module of its own, served beside emojitrack.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
// --- docs/library.md: custom protocol ---
import { filter, map } from 'rxjs';
import {
  StreamerError,
  defineProtocol,
  int,
  rollupJson,
  rollupScores,
  sseMessage,
} from '../../src/index.js';

/** Heart emoji rolled up once per window, at /subscribe/hearts. */
export const hearts = defineProtocol({
  name: 'hearts',
  config: { HEARTS_WINDOW_MS: int(1000, 10, 60_000) },
  start({ hub, source, streams, metrics }, { HEARTS_WINDOW_MS: windowMs }) {
    const HEARTS = new Set(['2665', '2764', '1F495']);
    hub.addFamily('hearts', {
      feed: source.channel('stream.score_updates').pipe(
        map((m) => m.payload),
        filter((id) => HEARTS.has(id)),
        rollupScores(windowMs),
      ),
      encode: { sse: (rollup) => sseMessage({ data: rollupJson(rollup) }) },
    });
    let opened = 0;
    metrics.counter('hearts.opened', 'Heart streams opened', () => opened);
    streams.add('/subscribe/hearts', (request) => {
      if (request.query.has('id')) {
        throw new StreamerError('RXS_ERR_BAD_REQUEST', '/subscribe/hearts takes no "id"', 400);
      }
      opened++;
      return { family: 'hearts' };
    });
    return { status: () => ({ hearts_opened: opened }) };
  },
});
// ---
import { MemoryBus, createStreamer, emojitrack, loadConfig } from '../../src/index.js';
import type { Streamer } from '../../src/index.js';
import { SseConnection } from '../../src/transports/sse/SseConnection.js';
import { openSse } from '../support/sse.js';

let bus: MemoryBus;
let streamer: Streamer;
let url: string;

beforeAll(async () => {
  bus = new MemoryBus();
  const env = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', HEARTS_WINDOW_MS: '200' };
  streamer = createStreamer({
    config: loadConfig(env),
    source: bus,
    protocols: [emojitrack, hearts],
  });
  const address = await streamer.listen();
  url = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await streamer.close();
});

it('is the code docs/library.md shows', () => {
  const here = readFileSync(new URL(import.meta.url), 'utf8');
  const example = /\/\/ --- docs\/library\.md: custom protocol ---\n([\s\S]*?)\n\/\/ ---\n/.exec(
    here,
  )?.[1];
  const readme = readFileSync(new URL('../../docs/library.md', import.meta.url), 'utf8');
  expect(example).toBeDefined();
  expect(readme).toContain(example?.replaceAll("'../../src/index.js'", "'rx-streamer'"));
});

it('serves the protocol beside the built-in ones, on the bare socket', async () => {
  const s = await openSse(`${url}/subscribe/hearts`);
  expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  for (const id of ['2665', '1F602', '2764', '2665']) bus.publish('stream.score_updates', id);
  await s.waitFor((events) => events.length === 1, 3_000);
  expect(s.events()[0]?.data).toBe('{"2665":2,"2764":1}');
  expect(
    [...streamer.hub.connected()].map((c) => c instanceof SseConnection && c.onBareSocket),
  ).toEqual([true]);
  const status = (await (await fetch(`${url}/admin/status.json`)).json()) as Record<
    string,
    unknown
  >;
  expect(status.hearts_opened).toBe(1);
  expect(status.protocols).toEqual(['emojitrack', 'hearts']);
  s.close();
  const bad = await fetch(`${url}/subscribe/hearts?id=2665`);
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { code: string }).code).toBe('RXS_ERR_BAD_REQUEST');
  expect((await fetch(`${url}/subscribe/nope`)).status).toBe(404);
  const eps = await openSse(`${url}/subscribe/eps`);
  eps.close();
});

it('validates its own variable at start-up, naming it', () => {
  expect(() =>
    createStreamer({
      config: loadConfig({ HEARTS_WINDOW_MS: '5' }),
      source: new MemoryBus(),
      protocols: [hearts],
    }),
  ).toThrow('HEARTS_WINDOW_MS="5" is not valid: expected a whole number from 10 to 60000');
});
