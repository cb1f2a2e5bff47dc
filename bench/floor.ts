// The floor: the least a Node process can do to put the same bytes on the same
// sockets. Raw sockets, a fixed response head, the eps rollup at 60 Hz and the
// tweets of each subscribed id, each encoded once (with its HTTP chunk framing)
// and written unchanged to every interested socket, once per event-loop turn.
// The traffic comes from the same generator, in-process: no Redis, no framework.
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { loadDemo } from './demo.js';
import { planFromArgv, send } from './ipc.js';
import type { FloorPlan, StatsRequest } from './ipc.js';
import { startTraffic } from './traffic.js';
import type { Use } from './traffic.js';

const plan = planFromArgv<FloorPlan>();
const demo = await loadDemo(plan.dist);
const epsSockets = new Set<Socket>();
const detailSockets = new Map<string, Set<Socket>>();
const counts = new Map<string, number>();
let uses = 0;
let maxBuffered = 0;

/** One HTTP/1.1 chunk, as Node frames each `res.write()` of a chunked response. */
function chunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

function head(): string {
  return (
    'HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\n' +
    'Content-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n' +
    `Connection: keep-alive\r\nX-Accel-Buffering: no\r\nDate: ${new Date().toUTCString()}\r\n` +
    `Transfer-Encoding: chunked\r\n\r\n${chunk(':ok\n\n')}`
  );
}

function writeAll(sockets: Iterable<Socket>, bytes: Buffer): void {
  for (const s of sockets) s.write(bytes);
}

function onBatch(batch: Use[]): void {
  uses += batch.length;
  let frames: Map<string, string> | undefined;
  for (const use of batch) {
    counts.set(use.id, (counts.get(use.id) ?? 0) + 1);
    if (!detailSockets.has(use.id)) continue;
    frames ??= new Map();
    const frame = chunk(`event:${use.tweetChannel}\ndata:${use.tweet}\n\n`);
    frames.set(use.id, (frames.get(use.id) ?? '') + frame);
  }
  if (!frames) return;
  for (const [id, text] of frames) writeAll(detailSockets.get(id) ?? [], Buffer.from(text));
}

function epsTick(): void {
  if (counts.size === 0) return;
  let json = '{';
  for (const id of [...counts.keys()].sort()) {
    json += `${json.length > 1 ? ',' : ''}"${id}":${counts.get(id)}`;
  }
  counts.clear();
  writeAll(epsSockets, Buffer.from(chunk(`data:${json}}\n\n`)));
  for (const s of epsSockets) if (s.writableLength > maxBuffered) maxBuffered = s.writableLength;
}

/** A drift-free 60 Hz clock, as the server's rollup window intends. */
function startEpsClock(): void {
  const started = performance.now();
  let ticks = 0;
  const next = () => {
    epsTick();
    ticks++;
    setTimeout(next, Math.max(0, started + ticks * plan.epsIntervalMs - performance.now()));
  };
  setTimeout(next, plan.epsIntervalMs);
}

function route(socket: Socket, request: Buffer): void {
  const line = request.toString('latin1', 0, Math.max(0, request.indexOf('\r\n')));
  const path = line.split(' ')[1] ?? '';
  const detail = /^\/subscribe\/details\/([0-9A-F-]+)$/.exec(path)?.[1];
  if (path !== '/subscribe/eps' && !detail) {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  socket.write(head());
  let set = epsSockets;
  if (detail) {
    set = detailSockets.get(detail) ?? new Set();
    detailSockets.set(detail, set);
  }
  set.add(socket);
  socket.once('close', () => {
    set.delete(socket);
    if (detail && set.size === 0) detailSockets.delete(detail);
  });
}

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  // The benchmark client sends its request in one write.
  socket.once('data', (request: Buffer) => route(socket, request));
});
server.listen(0, '127.0.0.1', () => {
  const stopTraffic = startTraffic(demo, plan, onBatch);
  startEpsClock();
  process.on('message', (message: StatsRequest) => {
    if (message.type === 'stats') {
      let connections = epsSockets.size;
      for (const set of detailSockets.values()) connections += set.size;
      send({ type: 'stats', stats: { uses, errors: 0, connections, maxBuffered } });
    } else {
      stopTraffic();
      process.exit(0);
    }
  });
  send({ type: 'listening', port: (server.address() as { port: number }).port });
});
process.on('disconnect', () => process.exit(0));
