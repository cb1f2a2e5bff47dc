// What the pub/sub floors share: a `ws` server at /pubsub that answers the
// subscribe action as rx does, and the runner's IPC. Each floor decides how a
// message reaches a channel's clients: through `ws.send`, or as frames of its
// own on the socket under it (taken from handleUpgrade, as rx's transport does).
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { send } from './ipc.js';
import type { StatsRequest } from './ipc.js';

export interface WsClient {
  readonly ws: WebSocket;
  /** The TCP socket under `ws`, for frames written directly. */
  readonly socket: Socket;
}

export interface WsFloorServer {
  /** Adds a client to a channel; returns what takes it out again. */
  join(channel: string, client: WsClient): () => void;
  /** Starts the in-process traffic; returns a function that stops it. */
  start(): () => void;
  stats(): { sent: number; maxBuffered: number };
}

/** Listens on a free loopback port and serves the runner's IPC until it says stop. */
export function serveWsFloor(floor: WsFloorServer): void {
  let connections = 0;
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    if (req.url !== '/pubsub') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      connections++;
      const leaves = new Map<string, () => void>();
      ws.on('message', (data: Buffer) => {
        const { action, payload } = JSON.parse(data.toString('utf8')) as {
          action: string;
          payload: { channel: string };
        };
        if (action !== 'subscribe') return;
        if (!leaves.has(payload.channel))
          leaves.set(payload.channel, floor.join(payload.channel, { ws, socket }));
        ws.send(
          JSON.stringify({ controlMessage: true, content: `Subscribed to ${payload.channel}` }),
        );
      });
      ws.on('close', () => {
        connections--;
        for (const leave of leaves.values()) leave();
      });
      ws.on('error', () => undefined);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const stop = floor.start();
    process.on('message', (message: StatsRequest) => {
      if (message.type === 'stats')
        send({ type: 'stats', stats: { ...floor.stats(), errors: 0, connections } });
      else {
        stop();
        process.exit(0);
      }
    });
    send({ type: 'listening', port: (server.address() as { port: number }).port });
  });
  process.on('disconnect', () => process.exit(0));
}
