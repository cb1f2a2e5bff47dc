// SockJS at a path prefix (`/pubsub/…`), for clients that speak it
// (sockjs-client, realtime-magic's own client): its two WebSocket transports on
// `ws` through the shared upgrades (see WsTransport.addSockJs), its HTTP
// fallbacks (XHR streaming and polling, EventSource, JSONP…) through the
// `sockjs` package behind an express router. Every session is a hub connection
// and its protocol's session, whichever transport carries it. Requests from a
// page whose origin the WebSocket transport does not allow are refused with
// 403 on every transport, the same refusal as its handshakes'. The `sockjs`
// package (sockJsServer.ts) is imported with the first request it answers: a
// server no SockJS client has reached does not hold its code.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Router } from 'express';
import { StreamerError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { SessionEndpoint } from '../../core/session.js';
import type { Hub } from '../../fanout/Hub.js';
import { trustFunction } from '../http/clientAddress.js';
import type { TrustProxy } from '../http/clientAddress.js';
import type { WsTransport } from '../ws/WsTransport.js';
import type { AllowedOrigins } from '../../core/origins.js';
import { sockJsIframe } from './iframe.js';
import type { SockJsHandler } from './sockJsServer.js';
import { sockJsWebSocketPaths } from './sockJsPaths.js';

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

export function serveSockJs(options: SockJsOptions): void {
  const { prefix, logger: log } = options;
  options.ws.addSockJs(prefix, options.endpoint);
  // The HTTP fallbacks' server, imported by the first request that needs it;
  // requests that come meanwhile wait for it.
  let handle: SockJsHandler | undefined;
  let loading: Promise<SockJsHandler> | undefined;
  const load = (): Promise<SockJsHandler> => {
    if (!loading) {
      loading = import('./sockJsServer.js').then(({ sockJsServer }) => {
        handle = sockJsServer({ ...options, trust: trustFunction(options.trustProxy) });
        return handle;
      });
      loading.catch((err: unknown) => log.error('loading sockjs failed', { error: String(err) }));
    }
    return loading;
  };
  const ours = (url: string | undefined) => (url ?? '').startsWith(`${prefix}/`);
  const websocketPath = sockJsWebSocketPaths(prefix);
  const iframe = sockJsIframe(prefix, options.allowedOrigins);
  options.router.use((req, res, next) => {
    if (!ours(req.originalUrl)) return next();
    // The iframe is loaded by a frame, whose Origin is the framing page's: it answers
    // before the origin check, and framing is restricted by its Content-Security-Policy.
    iframe(req, res, () => {
      const foreign = options.ws.refusesOrigin(req);
      if (foreign) return next(foreign);
      if (websocketPath.test(req.path)) {
        return next(
          new StreamerError('RXS_ERR_BAD_REQUEST', 'only WebSocket upgrades are served here', 400),
        );
      }
      // The body is counted only once sockjs is there to read it too.
      const serve = (sockJs: SockJsHandler) => {
        if (req.method === 'POST' && !boundBody(req, res, options.maxFrameBytes)) return;
        if (!sockJs(req, res)) next();
      };
      if (handle) serve(handle);
      else load().then(serve).catch(next);
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
