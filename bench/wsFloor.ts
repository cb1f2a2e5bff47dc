// The pub/sub floor: what a Node developer writes with `ws` alone. A
// WebSocketServer at /pubsub that answers the subscribe action, keeps a set of
// clients per channel, and sends each message, encoded once, to every client
// of its channel with `ws.send` (which frames it per client around the shared
// payload). The traffic comes from the same generator, in-process: no Redis.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { planFromArgv, send } from './ipc.js';
import type { FloorPlan, StatsRequest } from './ipc.js';
import { startPubsubTraffic } from './wsTraffic.js';
import type { PubsubMessage } from './wsTraffic.js';

const plan = planFromArgv<FloorPlan>();
const channels = new Map<string, Set<WebSocket>>();
let sent = 0;
let connections = 0;
let maxBuffered = 0;

function onBatch(batch: PubsubMessage[]): void {
  sent += batch.length;
  for (const m of batch) {
    const clients = channels.get(m.channel);
    if (!clients) continue;
    const frame = Buffer.from(`{"channel":${JSON.stringify(m.channel)},"message":${m.payload}}`);
    for (const ws of clients) {
      ws.send(frame);
      if (ws.bufferedAmount > maxBuffered) maxBuffered = ws.bufferedAmount;
    }
  }
}

const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, path: '/pubsub', perMessageDeflate: false });
wss.on('connection', (ws) => {
  connections++;
  const mine = new Set<string>();
  ws.on('message', (data: Buffer) => {
    const { action, payload } = JSON.parse(data.toString('utf8')) as {
      action: string;
      payload: { channel: string };
    };
    if (action !== 'subscribe') return;
    let clients = channels.get(payload.channel);
    if (!clients) channels.set(payload.channel, (clients = new Set()));
    clients.add(ws);
    mine.add(payload.channel);
    ws.send(JSON.stringify({ controlMessage: true, content: `Subscribed to ${payload.channel}` }));
  });
  ws.on('close', () => {
    connections--;
    for (const c of mine) channels.get(c)?.delete(ws);
  });
  ws.on('error', () => undefined);
});
server.listen(0, '127.0.0.1', () => {
  const stop = startPubsubTraffic(plan, onBatch);
  process.on('message', (message: StatsRequest) => {
    if (message.type === 'stats')
      send({ type: 'stats', stats: { sent, errors: 0, connections, maxBuffered } });
    else {
      stop();
      process.exit(0);
    }
  });
  send({ type: 'listening', port: (server.address() as { port: number }).port });
});
process.on('disconnect', () => process.exit(0));
