// The pre-framed pub/sub floor: each message encoded and framed once, the same
// bytes written to every client's socket. By default a loop turn's frames for a
// channel go out joined, one write per client, as rx's hub writes them
// (turnWriter.ts); with `perMessage`, each frame is written to every socket as
// it is made. Subscribing goes through `ws` as on the naive floor; the traffic
// comes from the same generator, in-process: no Redis.
import type { Socket } from 'node:net';
import { planFromArgv } from './ipc.js';
import type { FloorPlan } from './ipc.js';
import { FloorStream, TurnWriter } from './turnWriter.js';
import { serveWsFloor } from './wsFloorKit.js';
import { serverTextFrame } from './wsFrames.js';
import { startPubsubTraffic } from './wsTraffic.js';
import type { PubsubMessage } from './wsTraffic.js';

const plan = planFromArgv<FloorPlan>();
const channels = new Map<string, FloorStream>();
const writer = new TurnWriter();
let sent = 0;
let maxBuffered = 0;

function writeEach(sockets: Iterable<Socket>, frame: Buffer): void {
  for (const socket of sockets) {
    socket.write(frame);
    if (socket.writableLength > maxBuffered) maxBuffered = socket.writableLength;
  }
}

function onBatch(batch: PubsubMessage[]): void {
  sent += batch.length;
  for (const m of batch) {
    const stream = channels.get(m.channel);
    if (!stream || stream.sockets.size === 0) continue;
    const frame = serverTextFrame(
      Buffer.from(`{"channel":${JSON.stringify(m.channel)},"message":${m.payload}}`),
    );
    if (plan.perMessage) writeEach(stream.sockets, frame);
    else writer.queue(stream, frame);
  }
}

serveWsFloor({
  join(channel, { socket }) {
    let stream = channels.get(channel);
    if (!stream) channels.set(channel, (stream = new FloorStream()));
    stream.sockets.add(socket);
    return () => stream.sockets.delete(socket);
  },
  start: () => startPubsubTraffic(plan, onBatch),
  stats: () => ({ sent, maxBuffered: Math.max(maxBuffered, writer.maxBuffered) }),
});
