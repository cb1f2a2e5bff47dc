// The WebSocket transport: endpoints by path on the HTTP server's upgrades
// (`ws` in noServer mode, so one port serves SSE, HTTP and WebSocket), each
// accepted client a hub connection and its protocol's session. SockJS's two
// WebSocket transports (raw and framed) are served here too, on `ws`. A handshake to no endpoint, or one an
// endpoint refuses, is answered with an HTTP error and a JSON body; so is one
// from a web page whose origin is not allowed (403, core/origins.ts). Every
// client is pinged on one clock; one that did not answer the previous ping is
// dropped, so dead peers do not hold their subscriptions. `ws` is imported with
// the first handshake: a server no WebSocket client has reached (emojitrack
// alone serves none) does not hold its code.
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket, WebSocketServer } from 'ws';
import { StreamerError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import { originRefusal } from '../../core/origins.js';
import type { AllowedOrigins } from '../../core/origins.js';
import type { SessionEndpoint, SessionRequest } from '../../core/session.js';
import { connectionInfo } from '../../fanout/Connection.js';
import type { Hub } from '../../fanout/Hub.js';
import { clientAddress, normalizeIp, trustFunction } from '../http/clientAddress.js';
import type { TrustProxy } from '../http/clientAddress.js';
import { parseCookies } from '../http/cookies.js';
import { sockJsWebSocketPaths } from '../sockjs/sockJsPaths.js';
import { SockJsWsConnection, refuseSockJsWs } from '../sockjs/SockJsWsConnection.js';
import { WsConnection } from './WsConnection.js';

/** How an endpoint is reached: a plain WebSocket, or one of SockJS's WebSocket transports. */
type Carrier = 'websocket' | 'sockjs-raw' | 'sockjs-websocket';

interface Route {
  /** The endpoint's own path (the SockJS prefix for SockJS routes). */
  readonly path: string;
  readonly endpoint: SessionEndpoint;
  readonly carrier: Carrier;
}

export interface WsTransportOptions {
  readonly hub: Hub;
  /** Frames over this close the connection with 1009. */
  readonly maxFrameBytes: number;
  readonly pingMs: number;
  /** Messages a second one client may send (0: any). */
  readonly maxMessagesPerS?: number;
  readonly trustProxy: TrustProxy;
  /** Pages that may connect besides the server's own; by default, none. */
  readonly allowedOrigins?: AllowedOrigins;
  readonly logger?: Logger;
}

export class WsTransport {
  private readonly endpoints = new Map<string, Route>();
  /** SockJS prefixes with the paths of their WebSocket transports. */
  private readonly sockJs: {
    readonly prefix: string;
    readonly paths: RegExp;
    readonly endpoint: SessionEndpoint;
  }[] = [];
  /** `ws`'s server, once imported; `loading` until then. */
  private wss: WebSocketServer | undefined;
  private loading: Promise<WebSocketServer> | undefined;
  private readonly pinger: NodeJS.Timeout;
  private readonly trust;
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly options: WsTransportOptions) {
    this.trust = trustFunction(options.trustProxy);
    this.log = options.logger ?? silentLogger;
    this.pinger = setInterval(() => this.ping(), options.pingMs);
    this.pinger.unref();
  }

  /** Serves WebSocket clients at a path (exactly, with no trailing slash). */
  add(path: string, endpoint: SessionEndpoint): void {
    if (this.endpoints.has(path)) throw new Error(`a WebSocket endpoint is already at ${path}`);
    this.endpoints.set(path, { path, endpoint, carrier: 'websocket' });
  }

  /**
   * Serves SockJS's WebSocket transports under a prefix: the raw one at
   * `<prefix>/websocket` (plain frames) and the framed one sockjs-client uses at
   * `<prefix>/<server>/<session>/websocket`. Other upgrades there are a 404.
   */
  addSockJs(prefix: string, endpoint: SessionEndpoint): void {
    this.sockJs.push({ prefix, paths: sockJsWebSocketPaths(prefix), endpoint });
  }

  /** Takes the server's upgrade requests. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
  }

  /** The refusal of a handshake (or a SockJS request) from a page that may not connect, if it is one. */
  refusesOrigin(req: IncomingMessage): StreamerError | undefined {
    return originRefusal(req.headers, this.options.allowedOrigins ?? []);
  }

  /** Stops pinging and refuses new clients; the hub ends the connected ones. */
  close(): void {
    this.closed = true;
    clearInterval(this.pinger);
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://localhost');
    const foreign = this.refusesOrigin(req);
    if (foreign) {
      refuse(socket, foreign);
      return;
    }
    const route = this.route(url.pathname);
    const refusal = this.closed
      ? new StreamerError('RXS_ERR_UNAVAILABLE', 'the server is shutting down', 503)
      : !route
        ? new StreamerError('RXS_ERR_NOT_FOUND', `no WebSocket endpoint at ${url.pathname}`, 404)
        : (req.headers.upgrade ?? '').toLowerCase() !== 'websocket'
          ? new StreamerError('RXS_ERR_BAD_REQUEST', 'only WebSocket upgrades are served', 400)
          : undefined;
    if (refusal || !route) {
      refuse(socket, refusal ?? new StreamerError('RXS_ERR_NOT_FOUND', 'not found', 404));
      return;
    }
    // A client gone before its handshake was read has no address: nothing to answer.
    if (socket.remoteAddress === undefined) {
      socket.destroy();
      return;
    }
    const clientIp = this.clientIp(req, socket);
    const request = sessionRequest(route, req, url, clientIp);
    const rejected = this.check(route.endpoint, request) ?? this.options.hub.refusal(clientIp);
    if (rejected && route.carrier !== 'sockjs-websocket') {
      refuse(socket, rejected);
      return;
    }
    if (rejected) {
      // sockjs-client reads no HTTP status: it is told in a close frame, as on its other transports.
      this.handshake(req, socket, head, (ws) => refuseSockJsWs(ws, rejected));
      return;
    }
    this.handshake(req, socket, head, (ws) =>
      this.accepted(route, ws, socket, request, url.pathname),
    );
  }

  /** Imports `ws` and makes its server, once; a failure is logged when a handshake needs it. */
  private load(): Promise<WebSocketServer> {
    if (!this.loading) {
      this.loading = import('ws').then(({ WebSocketServer: Wss }) => {
        this.wss = new Wss({
          noServer: true,
          maxPayload: this.options.maxFrameBytes,
          // Frames are built once for every client; compression would make them per client.
          perMessageDeflate: false,
          clientTracking: false,
        });
        return this.wss;
      });
      // Answered where a handshake waits for it; never an unhandled rejection.
      this.loading.catch(() => undefined);
    }
    return this.loading;
  }

  /** Completes a handshake on `ws`'s server; one that comes while it is imported waits for it. */
  private handshake(
    req: IncomingMessage,
    socket: Socket,
    head: Buffer,
    done: (ws: WebSocket) => void,
  ): void {
    if (this.wss) {
      this.wss.handleUpgrade(req, socket, head, done);
      return;
    }
    this.load().then(
      (wss) => wss.handleUpgrade(req, socket, head, done),
      (err: unknown) => {
        this.log.error('loading ws failed', { error: String(err) });
        refuse(socket, new StreamerError('RXS_ERR_INTERNAL', 'internal error', 500));
      },
    );
  }

  private route(pathname: string): Route | undefined {
    const plain = this.endpoints.get(pathname);
    if (plain) return plain;
    for (const { prefix, paths, endpoint } of this.sockJs) {
      const match = paths.exec(pathname);
      if (match)
        return { path: prefix, endpoint, carrier: match[1] ? 'sockjs-websocket' : 'sockjs-raw' };
    }
    return undefined;
  }

  private clientIp(req: IncomingMessage, socket: Socket): string {
    const forwarded = req.headers['x-forwarded-for'];
    // As the SSE streams have it (no ::ffff:), so one address is counted once across transports.
    return normalizeIp(
      clientAddress(socket, Array.isArray(forwarded) ? forwarded.join(',') : forwarded, this.trust),
    );
  }

  private check(endpoint: SessionEndpoint, request: SessionRequest): StreamerError | undefined {
    try {
      return endpoint.accept?.(request);
    } catch (err) {
      this.log.error('checking a WebSocket handshake failed', { error: String(err) });
      return new StreamerError('RXS_ERR_INTERNAL', 'internal error', 500);
    }
  }

  private accepted(
    route: Route,
    ws: WebSocket,
    socket: Socket,
    request: SessionRequest,
    pathname: string,
  ): void {
    const info = connectionInfo({
      requestPath: route.carrier === 'websocket' ? pathname : route.path,
      namespace: route.carrier === 'websocket' ? pathname : `${route.path}/ (sockjs)`,
      clientIp: request.ip,
      userAgent: request.userAgent,
    });
    const connection =
      route.carrier === 'sockjs-websocket'
        ? new SockJsWsConnection(info, ws, socket, request)
        : new WsConnection(info, ws, socket, request);
    // A peer that breaks the protocol is closed by ws; the error needs a listener.
    ws.on('error', (err) => this.log.debug('WebSocket client error', { error: err.message }));
    connection.open(this.options.hub, route.endpoint, this.log, this.options.maxMessagesPerS);
  }

  private ping(): void {
    for (const c of this.options.hub.connected()) {
      if (!(c instanceof WsConnection)) continue;
      if (!c.alive) {
        c.destroy();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }
}

/** The session's request, as the protocol sees it. */
function sessionRequest(route: Route, req: IncomingMessage, url: URL, ip: string): SessionRequest {
  const userAgent = req.headers['user-agent'];
  return {
    path: route.path,
    query: new URLSearchParams(url.search),
    headers: req.headers,
    cookies: parseCookies(req.headers.cookie),
    ip,
    userAgent: typeof userAgent === 'string' ? userAgent : '',
    transport: route.carrier === 'websocket' ? 'websocket' : route.carrier,
  };
}

/** Answers a refused handshake on the socket: the status and the error's JSON. */
function refuse(socket: Socket, error: StreamerError): void {
  const body = JSON.stringify(error.toJSON());
  const reason = error.toJSON().error;
  let headers = '';
  for (const [name, value] of Object.entries(error.headers)) headers += `${name}: ${value}\r\n`;
  socket.end(
    `HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`,
  );
}
