// The site streams floor: what a Node developer writes with `ws` and `ioredis`
// alone. A WebSocketServer at /datastream?site=<site> keeps a set of clients per
// site; one loop reads the queue's stream with XREADGROUP (its own group,
// blocking, a batch at a time), sends each entry, encoded once, to every client
// of its site, and acknowledges the batch with one XACK. No validation, no
// redelivery, no dead letters: the least that reads the same queue.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { planFromArgv, send } from './ipc.js';
import type { FloorPlan, StatsRequest } from './ipc.js';

const plan = planFromArgv<FloorPlan>();
if (!plan.redisUrl)
  throw new Error('the queue floor reads the feeder’s Redis: redisUrl is missing');
const GROUP = 'floor';
const { key } = plan.datastream;
const redis = new Redis(plan.redisUrl, { connectionName: 'rx-streamer-bench:queue-floor' });
const sites = new Map<string, Set<WebSocket>>();
let delivered = 0;
let errors = 0;
let connections = 0;
let maxBuffered = 0;
let reading = true;
redis.on('error', () => errors++);

type Entries = [id: string, fields: string[]][];

function deliver(fields: readonly string[]): void {
  let site = '';
  let topic = '';
  let data = 'null';
  for (let i = 0; i < fields.length; i += 2) {
    const value = fields[i + 1] as string;
    if (fields[i] === 'site') site = value;
    else if (fields[i] === 'topic') topic = value;
    else if (fields[i] === 'data') data = value;
  }
  const clients = sites.get(site);
  if (!clients) return;
  const frame = Buffer.from(
    `{"site":${JSON.stringify(site)},"topic":${JSON.stringify(topic)},"data":${data}}`,
  );
  for (const ws of clients) {
    ws.send(frame);
    if (ws.bufferedAmount > maxBuffered) maxBuffered = ws.bufferedAmount;
  }
}

async function read(): Promise<void> {
  while (reading) {
    const answer = (await redis.xreadgroup(
      'GROUP',
      GROUP,
      'floor-1',
      'COUNT',
      500,
      'BLOCK',
      1000,
      'STREAMS',
      key,
      '>',
    )) as [string, Entries][] | null;
    const entries = answer?.[0]?.[1] ?? [];
    if (entries.length === 0) continue;
    for (const [, fields] of entries) deliver(fields);
    delivered += entries.length;
    await redis.xack(key, GROUP, ...entries.map(([id]) => id));
  }
}

await redis.xgroup('CREATE', key, GROUP, '$', 'MKSTREAM').catch((err: Error) => {
  if (!err.message.includes('BUSYGROUP')) throw err;
});

const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, path: '/datastream', perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  const site = new URL(req.url ?? '/', 'http://floor').searchParams.get('site') ?? '';
  connections++;
  let clients = sites.get(site);
  if (!clients) sites.set(site, (clients = new Set()));
  clients.add(ws);
  ws.send(JSON.stringify({ controlMessage: true, content: `Subscribed to site ${site}` }));
  ws.on('close', () => {
    connections--;
    sites.get(site)?.delete(ws);
  });
  ws.on('error', () => undefined);
});
server.listen(0, '127.0.0.1', () => {
  read().catch(() => errors++);
  process.on('message', (message: StatsRequest) => {
    if (message.type === 'stats')
      send({ type: 'stats', stats: { sent: delivered, errors, connections, maxBuffered } });
    else {
      reading = false;
      redis.disconnect();
      process.exit(0);
    }
  });
  send({ type: 'listening', port: (server.address() as { port: number }).port });
});
process.on('disconnect', () => process.exit(0));
