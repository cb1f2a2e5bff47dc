// The README's composition example, run as written: a new stream built from the
// exported toolkit and served next to the built-in ones.
import { map, filter } from 'rxjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  MemoryBus,
  createStreamer,
  loadConfig,
  rollupJson,
  rollupScores,
  sseMessage,
} from '../../src/index.js';
import type { Streamer } from '../../src/index.js';
import { openSse } from '../support/sse.js';

let bus: MemoryBus;
let streamer: Streamer;
let url: string;

beforeAll(async () => {
  bus = new MemoryBus();
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
  // --- as in the README ---
  streamer = createStreamer({
    config,
    source: bus,
    extend: ({ hub, source, streams }) => {
      // Hearts only, rolled up once a second.
      const hearts$ = source.channel('stream.score_updates').pipe(
        map((m) => m.payload),
        filter((id) => id === '2665' || id === '2764'),
        rollupScores(1000),
        map((rollup) => ({ topic: '', bytes: sseMessage({ data: rollupJson(rollup) }) })),
      );
      hub.addFamily('hearts', hearts$);
      streams.add('/subscribe/hearts', () => ({ family: 'hearts' }));
    },
  });
  // ---
  const address = await streamer.listen();
  url = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await streamer.close();
});

it('serves the composed stream beside the built-in ones', async () => {
  const s = await openSse(`${url}/subscribe/hearts`);
  expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  for (const id of ['2665', '1F602', '2764', '2665']) bus.publish('stream.score_updates', id);
  await s.waitFor((events) => events.length === 1, 3_000);
  expect(s.events()[0]?.data).toBe('{"2665":2,"2764":1}');
  expect([...streamer.hub.connections].map((c) => c.onBareSocket)).toEqual([true]);
  s.close();
  const res = await fetch(`${url}/subscribe/nope`);
  expect(res.status).toBe(404);
});
