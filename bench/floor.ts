// The emojitrack floor: the least a Node process can do to put the same bytes on
// the same sockets. The eps rollup at 60 Hz and the tweets of each subscribed
// id, each encoded once (with its HTTP chunk framing); a loop turn's bytes for a
// stream go out joined, the same buffer to every socket of it, written as rx's
// hub writes (turnWriter.ts), so that at thousands of clients the eps clock
// keeps its time and the floor stays a floor. The traffic comes from the same
// generator, in-process: no Redis, no framework.
import { loadDemo } from './demo.js';
import { chunk, NOT_FOUND, serveFloor, sseHead } from './floorKit.js';
import { planFromArgv } from './ipc.js';
import type { FloorPlan } from './ipc.js';
import { startTraffic } from './traffic.js';
import type { Use } from './traffic.js';
import { FloorStream, TurnWriter } from './turnWriter.js';

const plan = planFromArgv<FloorPlan>();
const demo = await loadDemo(plan.dist);
const writer = new TurnWriter();
const eps = new FloorStream();
const details = new Map<string, FloorStream>();
const counts = new Map<string, number>();
let uses = 0;

function onBatch(batch: Use[]): void {
  uses += batch.length;
  let frames: Map<string, string> | undefined;
  for (const use of batch) {
    counts.set(use.id, (counts.get(use.id) ?? 0) + 1);
    if (!details.has(use.id)) continue;
    frames ??= new Map();
    const frame = chunk(`event:${use.tweetChannel}\ndata:${use.tweet}\n\n`);
    frames.set(use.id, (frames.get(use.id) ?? '') + frame);
  }
  if (!frames) return;
  for (const [id, text] of frames) {
    const stream = details.get(id);
    if (stream) writer.queue(stream, Buffer.from(text));
  }
}

function epsTick(): void {
  if (counts.size === 0) return;
  let json = '{';
  for (const id of [...counts.keys()].sort()) {
    json += `${json.length > 1 ? ',' : ''}"${id}":${counts.get(id)}`;
  }
  counts.clear();
  if (eps.sockets.size > 0) writer.queue(eps, Buffer.from(chunk(`data:${json}}\n\n`)));
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
    let stream = eps;
    if (detail) {
      stream = details.get(detail) ?? new FloorStream();
      details.set(detail, stream);
    }
    stream.sockets.add(socket);
    socket.once('close', () => {
      stream.sockets.delete(socket);
      if (detail && stream.sockets.size === 0) details.delete(detail);
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
    let connections = eps.sockets.size;
    for (const stream of details.values()) connections += stream.sockets.size;
    return { sent: uses, connections, maxBuffered: writer.maxBuffered };
  },
});
