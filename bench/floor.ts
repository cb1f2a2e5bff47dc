// The emojitrack floor: the least a Node process can do to put the same bytes on
// the same sockets. The eps rollup at 60 Hz and the tweets of each subscribed
// id, each encoded once (with its HTTP chunk framing) and written unchanged to
// every interested socket, once per event-loop turn. The traffic comes from the
// same generator, in-process: no Redis, no framework.
import type { Socket } from 'node:net';
import { loadDemo } from './demo.js';
import { chunk, NOT_FOUND, serveFloor, sseHead } from './floorKit.js';
import { planFromArgv } from './ipc.js';
import type { FloorPlan } from './ipc.js';
import { startTraffic } from './traffic.js';
import type { Use } from './traffic.js';

const plan = planFromArgv<FloorPlan>();
const demo = await loadDemo(plan.dist);
const epsSockets = new Set<Socket>();
const detailSockets = new Map<string, Set<Socket>>();
const counts = new Map<string, number>();
let uses = 0;
let maxBuffered = 0;

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
function startEpsClock(): () => void {
  const started = performance.now();
  let ticks = 0;
  let timer: NodeJS.Timeout | undefined;
  const next = () => {
    epsTick();
    ticks++;
    timer = setTimeout(next, Math.max(0, started + ticks * plan.epsIntervalMs - performance.now()));
  };
  timer = setTimeout(next, plan.epsIntervalMs);
  return () => clearTimeout(timer);
}

serveFloor({
  route(socket, path) {
    const detail = /^\/subscribe\/details\/([0-9A-F-]+)$/.exec(path)?.[1];
    if (path !== '/subscribe/eps' && !detail) {
      socket.end(NOT_FOUND);
      return;
    }
    socket.write(sseHead(':ok\n\n'));
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
  },
  start() {
    const stopTraffic = startTraffic(demo, plan, onBatch);
    const stopClock = startEpsClock();
    return () => {
      stopTraffic();
      stopClock();
    };
  },
  stats() {
    let connections = epsSockets.size;
    for (const set of detailSockets.values()) connections += set.size;
    return { sent: uses, connections, maxBuffered };
  },
});
