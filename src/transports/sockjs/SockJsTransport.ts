// SockJS at a path prefix (`/pubsub/…`), for clients that speak it
// (sockjs-client, realtime-magic's own client): its WebSocket transport through
// the shared WebSocket upgrades, its HTTP fallbacks (XHR streaming and polling,
// EventSource, JSONP…) through an express router. Each session is a hub
// connection, like a WebSocket client. Requests from a page whose origin the
// WebSocket transport does not allow are refused with 403, on every transport.
import type { IncomingMessage } from 'node:http';
import type { Router } from 'express';
import sockjs from 'sockjs';
import type { Connection as SockJsSession } from 'sockjs';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import type { Hub } from '../../fanout/Hub.js';
import { connectionInfo } from '../../fanout/Connection.js';
import { normalizeIp } from '../http/clientAddress.js';
import { forbiddenOrigin, openClient } from '../ws/WsTransport.js';
import type { WsTransport } from '../ws/WsTransport.js';
import { SockJsConnection } from './SockJsConnection.js';

export interface SockJsOptions {
  readonly hub: Hub;
  /** Served at `<prefix>/…`; `<prefix>` itself is left to a plain WebSocket endpoint. */
  readonly prefix: string;
  readonly router: Router;
  readonly ws: WsTransport;
  readonly logger?: Logger;
  readonly connected: (connection: SockJsConnection) => void;
}

type SockJsHandler = (req: IncomingMessage, res: unknown, head?: Buffer) => boolean;

/** What sockjs's Server has besides its typings: a listener per set of options. */
interface SockJsListenerSource {
  listener(options: { prefix: string }): { getHandler(): SockJsHandler };
}

export function serveSockJs(options: SockJsOptions): void {
  const log = options.logger ?? silentLogger;
  const server = sockjs.createServer({
    prefix: options.prefix,
    // Its own logging goes to ours, quietly.
    log: (severity: string, message: string) => {
      if (severity === 'error') log.warn('sockjs', { message });
    },
    disconnect_delay: 5_000,
  });
  server.on('connection', (session: SockJsSession | null) => {
    // SockJS reports a session that closed before it opened as null.
    if (!session) return;
    const clientIp = normalizeIp(session.remoteAddress ?? '');
    // Its transports answer before a session exists: a session over the bounds is closed at once.
    const over = options.hub.refusal(clientIp);
    if (over) {
      // The close frame carries the code as a number; the typings say string.
      session.close(4503 as unknown as string, over.message);
      return;
    }
    const connection = new SockJsConnection(
      connectionInfo({
        requestPath: options.prefix,
        namespace: `${options.prefix}/ (sockjs)`,
        clientIp,
        userAgent: session.headers['user-agent'],
      }),
      session,
    );
    openClient(options.hub, connection, log, () => options.connected(connection));
  });
  // installHandlers() would take over the server's request and upgrade events;
  // the listener's handler lets this transport sit behind the router and the
  // shared upgrades instead (it answers true for a request it took).
  const handle = (server as unknown as SockJsListenerSource)
    .listener({ prefix: options.prefix })
    .getHandler();
  const ours = (url: string | undefined) => (url ?? '').startsWith(`${options.prefix}/`);
  options.router.use((req, res, next) => {
    if (!ours(req.originalUrl)) return next();
    if (!options.ws.allowsOrigin(req)) return next(forbiddenOrigin(req));
    if (!handle(req, res)) next();
  });
  options.ws.addPrefix(`${options.prefix}/`, (req, socket, head) => handle(req, socket, head));
}
