// The naive pub/sub floor: what a Node developer writes with `ws` alone. Each
// message is encoded once and sent with `ws.send` to every client of its
// channel, which frames it per client: a header of its own and a corked write
// of header and shared payload for each socket. The traffic comes from the same
// generator, in-process: no Redis.
import type { WebSocket } from 'ws';
import { planFromArgv } from './ipc.js';
import type { FloorPlan } from './ipc.js';
import { serveWsFloor } from './wsFloorKit.js';
import { startPubsubTraffic } from './wsTraffic.js';
import type { PubsubMessage } from './wsTraffic.js';

const plan = planFromArgv<FloorPlan>();
const channels = new Map<string, Set<WebSocket>>();
let sent = 0;
let maxBuffered = 0;

function onBatch(batch: PubsubMessage[]): void {
  sent += batch.length;
  for (const m of batch) {
    const clients = channels.get(m.channel);
    if (!clients) continue;
    const payload = Buffer.from(`{"channel":${JSON.stringify(m.channel)},"message":${m.payload}}`);
    for (const ws of clients) {
      ws.send(payload);
      if (ws.bufferedAmount > maxBuffered) maxBuffered = ws.bufferedAmount;
    }
  }
}

serveWsFloor({
  join(channel, { ws }) {
    let clients = channels.get(channel);
    if (!clients) channels.set(channel, (clients = new Set()));
    clients.add(ws);
    return () => clients.delete(ws);
  },
  start: () => startPubsubTraffic(plan, onBatch),
  stats: () => ({ sent, maxBuffered }),
});
