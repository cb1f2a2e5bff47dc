// The notifications floor: the least a Node process can do to serve the same
// notification streams. The channel sets are known up front (no Redis, no set
// reads); each message is encoded once, and each connection that gets it writes
// its own `id:` line before the shared bytes, all of one event-loop turn in one
// chunk. The traffic comes from the same generator, in-process.
import type { Socket } from 'node:net';
import { loadDemo } from './demo.js';
import { NOT_FOUND, serveFloor, sseHead } from './floorKit.js';
import { planFromArgv } from './ipc.js';
import type { FloorPlan } from './ipc.js';
import { channelSets, startNotifyTraffic } from './notifyTraffic.js';
import type { Notification } from './notifyTraffic.js';

interface Stream {
  readonly socket: Socket;
  nextId: number;
}

const plan = planFromArgv<FloorPlan>();
const demo = await loadDemo(plan.dist);
const sets = channelSets(plan.notify, plan.seed, demo.seededRandom);
const subscribers = new Map<string, Set<Stream>>();
const CRLF = Buffer.from('\r\n');
const OK = 'data:<message><status>ok</status></message>\n\n';
let sent = 0;
let connections = 0;
let maxBuffered = 0;

function deliver(stream: Stream, events: readonly Buffer[]): void {
  const parts: Buffer[] = [];
  let length = 0;
  for (const event of events) {
    const id = Buffer.from(`id:${stream.nextId++}\n`, 'latin1');
    parts.push(id, event);
    length += id.length + event.length;
  }
  parts.unshift(Buffer.from(`${length.toString(16)}\r\n`, 'latin1'));
  parts.push(CRLF);
  stream.socket.write(Buffer.concat(parts));
  if (stream.socket.writableLength > maxBuffered) maxBuffered = stream.socket.writableLength;
}

function onBatch(batch: Notification[]): void {
  sent += batch.length;
  const due = new Map<Stream, Buffer[]>();
  for (const message of batch) {
    const streams = subscribers.get(message.channel);
    if (!streams) continue;
    const event = Buffer.from(`data:${message.payload}\n\n`);
    for (const stream of streams) {
      const events = due.get(stream);
      if (events) events.push(event);
      else due.set(stream, [event]);
    }
  }
  for (const [stream, events] of due) deliver(stream, events);
}

serveFloor({
  route(socket, target) {
    const index = /^\/\?user=u(\d+)$/.exec(target)?.[1];
    const channels = index === undefined ? undefined : sets[Number(index)];
    if (!channels) {
      socket.end(NOT_FOUND);
      return;
    }
    const stream: Stream = { socket, nextId: 2 };
    socket.write(sseHead(`id:1\n${OK}`));
    connections++;
    for (const channel of channels) {
      let streams = subscribers.get(channel);
      if (!streams) subscribers.set(channel, (streams = new Set()));
      streams.add(stream);
    }
    socket.once('close', () => {
      connections--;
      for (const channel of channels) subscribers.get(channel)?.delete(stream);
    });
  },
  start: () => startNotifyTraffic(plan, demo.seededRandom, onBatch),
  stats: () => ({ sent, connections, maxBuffered }),
});
