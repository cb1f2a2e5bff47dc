// The hub writes large fan-outs a slice per event-loop turn. Whatever the
// slicing, every client gets every message of its topic, in order, once.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Subject, groupBy } from 'rxjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Hub } from '../../src/fanout/Hub.js';
import { requestFromIncoming } from '../../src/transports/http/StreamRequest.js';
import { SseTransport } from '../../src/transports/sse/SseTransport.js';
import { sseMessage } from '../../src/transports/sse/sseEncode.js';
import { openSse, waitUntil } from '../support/sse.js';
import type { RawSse } from '../support/sse.js';

let server: Server;
let hub: Hub;
let url: string;
interface Frame {
  readonly topic: string;
  readonly n: number;
}
const feed = new Subject<Frame>();

beforeAll(async () => {
  hub = new Hub({ maxWritesPerTurn: 3 });
  hub.addFamily('f', {
    routes: feed.pipe(groupBy((m) => m.topic)),
    encode: { sse: (m: Frame) => sseMessage({ data: `${m.topic}-${m.n}` }) },
  });
  const sse = new SseTransport({ hub });
  server = createServer((req, res) => {
    sse.open(req, res, requestFromIncoming(req), {
      family: 'f',
      topic: req.url === '/big' ? 'big' : 'small',
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  hub.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const frame = (topic: string, n: number): Frame => ({ topic, n });

it('delivers every message in order to every client, three writes a turn', async () => {
  const big: RawSse[] = [];
  for (let i = 0; i < 10; i++) big.push(await openSse(`${url}/big`));
  const small = [await openSse(`${url}/small`), await openSse(`${url}/small`)];
  await waitUntil(() => hub.clientCount('f') === 12, 5_000, 'twelve clients');
  const before = hub.stats.deliveries;

  // Bursts in one turn, and messages spread over turns while slices are still being written.
  let sent = 0;
  for (let burst = 0; burst < 20; burst++) {
    for (let i = 0; i < 3; i++) {
      feed.next(frame('big', sent));
      feed.next(frame('small', sent));
      sent++;
    }
    await new Promise((r) => setImmediate(r));
  }
  const expectText = (topic: string) =>
    ':ok\n\n' + Array.from({ length: sent }, (_, n) => `data:${topic}-${n}\n\n`).join('');
  for (const c of big) await c.waitFor((events) => events.length === sent);
  for (const c of small) await c.waitFor((events) => events.length === sent);
  for (const c of big) expect(c.text()).toBe(expectText('big'));
  for (const c of small) expect(c.text()).toBe(expectText('small'));
  expect(hub.stats.deliveries - before).toBe(sent * 12);
  for (const c of [...big, ...small]) c.close();
});

it('a large turn still finishes while small turns keep coming, every loop turn', async () => {
  const big = await Promise.all(Array.from({ length: 12 }, () => openSse(`${url}/big`)));
  const small = await Promise.all(Array.from({ length: 3 }, () => openSse(`${url}/small`)));
  await waitUntil(() => hub.clientCount('f') === 15, 5_000, 'fifteen clients');
  feed.next(frame('big', 0));
  // Three small writes every loop turn use the whole budget of three.
  let turns = 0;
  for (; turns < 400 && !big.every((c) => c.count() >= 1); turns++) {
    feed.next(frame('small', turns));
    await new Promise((r) => setImmediate(r));
  }
  expect(turns).toBeLessThan(400);
  for (const c of small) await c.waitFor((events) => events.length === turns);
  for (const c of [...big, ...small]) c.close();
});

it('a client that joins mid-stream counts exactly the messages it got', async () => {
  const first = await Promise.all(Array.from({ length: 6 }, () => openSse(`${url}/big`)));
  await waitUntil(() => hub.clientCount('f') === 6, 5_000, 'six clients');
  feed.next(frame('big', 0));
  const late = await openSse(`${url}/big`);
  feed.next(frame('big', 1));
  await late.waitFor((events) => events.length >= 1);
  for (const c of first) await c.waitFor((events) => events.length === 2);
  await late.waitFor((events) => events.at(-1)?.data === 'big-1');
  const lateConnection = [...hub.connected()].at(-1);
  expect(lateConnection?.msgsSent).toBe(late.events().length);
  for (const c of [...first, late]) c.close();
});
