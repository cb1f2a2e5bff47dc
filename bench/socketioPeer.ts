// The pub/sub peer: what a Node developer would pick instead of rx-streamer, a
// Socket.IO 4 server with its Redis adapter, on its own Redis. A client sends
// `subscribe` with a channel name, the server joins it to that room and answers
// `subscribed`. The feeder publishes each message with @socket.io/redis-emitter
// (the way outside publishers reach Socket.IO servers), so every message comes
// in through the adapter and goes out as one broadcast to the room, as a
// cluster of Socket.IO servers does it.
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { planFromArgv, send } from './ipc.js';
import type { PeerPlan, StatsRequest } from './ipc.js';

const plan = planFromArgv<PeerPlan>();
const pub = new Redis(plan.redisUrl, { connectionName: 'rx-streamer-bench:socket.io' });
const sub = pub.duplicate();
let errors = 0;
for (const client of [pub, sub]) client.on('error', () => errors++);

const server = createServer((_req, res) => res.writeHead(404).end());
const io = new Server(server, {
  // The clients speak WebSocket from the start, like the others' clients.
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  // No heartbeat in the window, as the server runs with WS_PING_MS=600000.
  pingInterval: plan.pingMs,
  pingTimeout: plan.pingMs,
  adapter: createAdapter(pub, sub),
});
io.on('connection', (socket) => {
  socket.on('subscribe', (channel: unknown) => {
    if (typeof channel !== 'string') return;
    void socket.join(channel);
    socket.emit('subscribed', channel);
  });
});

server.listen(0, '127.0.0.1', () => {
  process.on('message', (message: StatsRequest) => {
    if (message.type === 'stats') {
      send({
        type: 'stats',
        stats: { errors, connections: io.engine.clientsCount },
      });
    } else {
      void io.close();
      pub.disconnect();
      sub.disconnect();
      process.exit(0);
    }
  });
  send({ type: 'listening', port: (server.address() as { port: number }).port });
});
process.on('disconnect', () => process.exit(0));
