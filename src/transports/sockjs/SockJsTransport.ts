// SockJS at a path prefix (`/pubsub/…`), for clients that speak it
// (sockjs-client, realtime-magic's own client): its two WebSocket transports on
// `ws` through the shared upgrades (see WsTransport.addSockJs), its HTTP
// fallbacks (XHR streaming and polling, EventSource, JSONP…) through the
// `sockjs` package behind an express router. Every session is a hub connection
// and its protocol's session, whichever transport carries it. Requests from a
// page whose origin the WebSocket transport does not allow are refused with
// 403, on every transport.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Router } from 'express';
import sockjs from 'sockjs';
import type { Connection as SockJsSession } from 'sockjs';
import { StreamerError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { SessionEndpoint, SessionRequest } from '../../core/session.js';
import { connectionInfo } from '../../fanout/Connection.js';
import type { Hub } from '../../fanout/Hub.js';
import { clientAddress, normalizeIp, trustFunction } from '../http/clientAddress.js';
import type { TrustProxy } from '../http/clientAddress.js';
import { parseCookies } from '../http/cookies.js';
import { forbiddenOrigin } from '../ws/WsTransport.js';
import type { WsTransport } from '../ws/WsTransport.js';
import type { AllowedOrigins } from '../../core/origins.js';
import { sockJsIframe } from './iframe.js';
import { sockJsWebSocketPaths } from './sockJsPaths.js';
import { SockJsConnection } from './SockJsConnection.js';
import { sockJsRefusalCode } from './SockJsWsConnection.js';

/** What every message transport of a server shares (see SessionServer). */
export interface SessionTransportOptions {
  readonly hub: Hub;
  readonly ws: WsTransport;
  /** Messages over this close a session with 1009, on every transport. */
  readonly maxFrameBytes: number;
  /** Messages a second one session may send (0: any), on every transport. */
  readonly maxMessagesPerS?: number;
  readonly trustProxy: TrustProxy;
  /** Pages that may connect besides the server's own: the only ones that may frame its iframe. */
  readonly allowedOrigins: AllowedOrigins;
  readonly logger: Logger;
}

export interface SockJsOptions extends SessionTransportOptions {
  /** Served at `<prefix>/…`; `<prefix>` itself is left to a plain WebSocket endpoint. */
  readonly prefix: string;
  readonly endpoint: SessionEndpoint;
  readonly router: Router;
}

type SockJsHandler = (req: IncomingMessage, res: unknown, head?: Buffer) => boolean;

/** What sockjs's Server has besides its typings: a listener per set of options. */
interface SockJsListenerSource {
  listener(options: { prefix: string }): { getHandler(): SockJsHandler };
}

export function serveSockJs(options: SockJsOptions): void {
  const { hub, prefix, endpoint, logger: log } = options;
  const trust = trustFunction(options.trustProxy);
  options.ws.addSockJs(prefix, endpoint);
  const server = sockjs.createServer({
    prefix,
    // Its own logging goes to ours, quietly.
    log: (severity: string, message: string) => {
      if (severity === 'error') log.warn('sockjs', { message });
    },
    disconnect_delay: 5_000,
    // Its iframe is served by sockJsIframe (below) with the installed client; never a CDN's.
    sockjs_url: 'sockjs.min.js',
  });
  server.on('connection', (session: SockJsSession | null) => {
    // SockJS reports a session that closed before it opened as null.
    if (!session) return;
    const forwarded = session.headers['x-forwarded-for'];
    const ip = normalizeIp(
      clientAddress(
        { remoteAddress: session.remoteAddress },
        Array.isArray(forwarded) ? forwarded.join(',') : forwarded,
        trust,
      ),
    );
    const request = sockJsRequest(prefix, session, ip);
    // Its transports answer before a session exists: a session refused is closed at once.
    const refused = check(endpoint, request, log) ?? hub.refusal(ip);
    if (refused) {
      // The close frame carries the code as a number; the typings say string.
      session.close(sockJsRefusalCode(refused) as unknown as string, refused.message);
      return;
    }
    const connection = new SockJsConnection(
      connectionInfo({
        requestPath: prefix,
        namespace: `${prefix}/ (sockjs)`,
        clientIp: ip,
        userAgent: request.userAgent,
      }),
      session,
      request,
      options.maxFrameBytes,
    );
    connection.open(hub, endpoint, log, options.maxMessagesPerS);
  });
  // installHandlers() would take over the server's request and upgrade events;
  // the listener's handler lets this transport sit behind the router instead
  // (it answers true for a request it took). Upgrades never reach it: the
  // WebSocket transports are `ws`'s, so sockjs's own (faye-websocket) never runs.
  const handle = (server as unknown as SockJsListenerSource).listener({ prefix }).getHandler();
  const ours = (url: string | undefined) => (url ?? '').startsWith(`${prefix}/`);
  const websocketPath = sockJsWebSocketPaths(prefix);
  const iframe = sockJsIframe(prefix, options.allowedOrigins);
  options.router.use((req, res, next) => {
    if (!ours(req.originalUrl)) return next();
    // The iframe is loaded by a frame, whose Origin is the framing page's: it answers
    // before the origin check, and framing is restricted by its Content-Security-Policy.
    iframe(req, res, () => {
      if (!options.ws.allowsOrigin(req)) return next(forbiddenOrigin(req));
      if (websocketPath.test(req.path)) {
        return next(
          new StreamerError('RXS_ERR_BAD_REQUEST', 'only WebSocket upgrades are served here', 400),
        );
      }
      if (req.method === 'POST' && !boundBody(req, res, options.maxFrameBytes)) return;
      if (!handle(req, res)) next();
    });
  });
}

/**
 * sockjs reads a send's whole body before it looks at anything, a chunk at a
 * time into one string: a body over the message bound is refused with 413 by
 * its Content-Length, or cut off with 413 once that many bytes have come.
 * Returns whether the request goes on to sockjs.
 */
function boundBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): boolean {
  const tooLarge = () =>
    new StreamerError(
      'RXS_ERR_TOO_LARGE',
      `a SockJS send carries at most ${maxBytes} bytes (WS_MAX_FRAME_BYTES)`,
      413,
    );
  const refuse = () => {
    if (res.headersSent) return void req.socket.destroy();
    const body = JSON.stringify(tooLarge().toJSON());
    res.writeHead(413, { 'Content-Type': 'application/json; charset=utf-8', Connection: 'close' });
    res.end(body, () => req.socket.destroy());
  };
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
    refuse();
    return false;
  }
  let seen = 0;
  const count = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen <= maxBytes) return;
    req.off('data', count);
    // Nothing more reaches sockjs (its body never ends); the socket is closed after the answer.
    req.pause();
    refuse();
  };
  req.on('data', count);
  return true;
}

function sockJsRequest(prefix: string, session: SockJsSession, ip: string): SessionRequest {
  const url = new URL(session.url ?? prefix, 'http://localhost');
  const userAgent = session.headers['user-agent'];
  return {
    path: prefix,
    query: new URLSearchParams(url.search),
    headers: session.headers,
    // SockJS passes on no cookies.
    cookies: parseCookies(undefined),
    ip,
    userAgent: typeof userAgent === 'string' ? userAgent : '',
    transport: session.protocol,
  };
}

function check(
  endpoint: SessionEndpoint,
  request: SessionRequest,
  log: Logger,
): StreamerError | undefined {
  try {
    return endpoint.accept?.(request);
  } catch (err) {
    log.error('checking a SockJS session failed', { error: String(err) });
    return new StreamerError('RXS_ERR_INTERNAL', 'internal error', 500);
  }
}
