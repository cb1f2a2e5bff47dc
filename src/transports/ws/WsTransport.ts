// The WebSocket transport: endpoints by path on the HTTP server's upgrades
// (`ws` in noServer mode, so one port serves SSE, HTTP and WebSocket), each
// accepted client a hub connection. A handshake to no endpoint, or one an
// endpoint refuses, is answered with an HTTP error and a JSON body; so is one
// from a web page whose origin is not allowed (403, see core/origins.ts). Every
// client is pinged on one clock; one that did not answer the previous ping is
// dropped, so dead peers do not hold their subscriptions.
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { StreamerError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import { originAllowed } from '../../core/origins.js';
import type { AllowedOrigins } from '../../core/origins.js';
import { connectionInfo } from '../../fanout/Connection.js';
import type { Connection } from '../../fanout/Connection.js';
import type { Hub } from '../../fanout/Hub.js';
import { clientAddress, normalizeIp, trustFunction } from '../http/clientAddress.js';
import type { TrustProxy } from '../http/clientAddress.js';
import { WsConnection } from './WsConnection.js';

export interface WsEndpoint {
  /** Checks the handshake: a StreamerError refuses it with its status and JSON body. */
  readonly accept?: (req: IncomingMessage, url: URL) => StreamerError | undefined;
  /** The client is connected (and attached to the hub). */
  readonly connected: (connection: WsConnection, req: IncomingMessage, url: URL) => void;
}

/** Takes an upgrade request; returns false to leave it to the transport. */
export type UpgradeHandler = (req: IncomingMessage, socket: Socket, head: Buffer) => boolean;

export interface WsTransportOptions {
  readonly hub: Hub;
  /** Frames over this close the connection with 1009. */
  readonly maxFrameBytes: number;
  readonly pingMs: number;
  readonly trustProxy: TrustProxy;
  /** Pages that may connect besides the server's own; by default, none. */
  readonly allowedOrigins?: AllowedOrigins;
  readonly logger?: Logger;
}

export class WsTransport {
  private readonly endpoints = new Map<string, WsEndpoint>();
  /** Upgrades under a path prefix handled by another protocol stack (SockJS). */
  private readonly prefixes: [string, UpgradeHandler][] = [];
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<WsConnection>();
  private readonly pinger: NodeJS.Timeout;
  private readonly trust;
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly options: WsTransportOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes,
      // Frames are built once for every client; compression would make them per client.
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.trust = trustFunction(options.trustProxy);
    this.log = options.logger ?? silentLogger;
    this.pinger = setInterval(() => this.ping(), options.pingMs);
    this.pinger.unref();
  }

  /** Serves WebSocket clients at a path (exactly, with no trailing slash). */
  add(path: string, endpoint: WsEndpoint): void {
    if (this.endpoints.has(path)) throw new Error(`a WebSocket endpoint is already at ${path}`);
    this.endpoints.set(path, endpoint);
  }

  /**
   * Hands upgrades whose path starts with `prefix` (and is no endpoint's) to
   * `handler`, which returns whether it took the request.
   */
  addPrefix(prefix: string, handler: UpgradeHandler): void {
    this.prefixes.push([prefix, handler]);
  }

  /** Takes the server's upgrade requests. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
  }

  /** Whether a handshake (or a SockJS request) may come from its page's origin. */
  allowsOrigin(req: IncomingMessage): boolean {
    return originAllowed(req.headers, this.options.allowedOrigins ?? []);
  }

  /** WebSocket clients connected now. */
  get size(): number {
    return this.clients.size;
  }

  /** Stops pinging and refuses new clients; the hub ends the connected ones. */
  close(): void {
    this.closed = true;
    clearInterval(this.pinger);
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://localhost');
    const endpoint = this.endpoints.get(url.pathname);
    if (!this.allowsOrigin(req)) {
      refuse(socket, forbiddenOrigin(req));
      return;
    }
    if (!endpoint && !this.closed) {
      const prefixed = this.prefixes.find(([prefix]) => url.pathname.startsWith(prefix));
      if (prefixed?.[1](req, socket, head)) return;
    }
    const refusal = this.closed
      ? new StreamerError('RXS_ERR_UNAVAILABLE', 'the server is shutting down', 503)
      : !endpoint
        ? new StreamerError('RXS_ERR_NOT_FOUND', `no WebSocket endpoint at ${url.pathname}`, 404)
        : (req.headers.upgrade ?? '').toLowerCase() !== 'websocket'
          ? new StreamerError('RXS_ERR_BAD_REQUEST', 'only WebSocket upgrades are served', 400)
          : this.check(endpoint, req, url);
    if (refusal || !endpoint) {
      refuse(socket, refusal ?? new StreamerError('RXS_ERR_NOT_FOUND', 'not found', 404));
      return;
    }
    // A client gone before its handshake was read has no address: nothing to answer.
    if (socket.remoteAddress === undefined) {
      socket.destroy();
      return;
    }
    const clientIp = this.clientIp(req, socket);
    const over = this.options.hub.refusal(clientIp);
    if (over) {
      refuse(socket, over);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) =>
      this.accepted(endpoint, ws, socket, req, url, clientIp),
    );
  }

  private clientIp(req: IncomingMessage, socket: Socket): string {
    const forwarded = req.headers['x-forwarded-for'];
    // As the SSE streams have it (no ::ffff:), so one address is counted once across transports.
    return normalizeIp(
      clientAddress(socket, Array.isArray(forwarded) ? forwarded.join(',') : forwarded, this.trust),
    );
  }

  private check(endpoint: WsEndpoint, req: IncomingMessage, url: URL): StreamerError | undefined {
    try {
      return endpoint.accept?.(req, url);
    } catch (err) {
      this.log.error('checking a WebSocket handshake failed', { error: String(err) });
      return new StreamerError('RXS_ERR_INTERNAL', 'internal error', 500);
    }
  }

  private accepted(
    endpoint: WsEndpoint,
    ws: WebSocket,
    socket: Socket,
    req: IncomingMessage,
    url: URL,
    clientIp: string,
  ): void {
    const connection = new WsConnection(
      connectionInfo({
        requestPath: url.pathname,
        namespace: url.pathname,
        clientIp,
        userAgent: req.headers['user-agent'],
      }),
      ws,
      socket,
    );
    // A peer that breaks the protocol is closed by ws; the error needs a listener.
    ws.on('error', (err) => this.log.debug('WebSocket client error', { error: err.message }));
    this.clients.add(connection);
    connection.whenEnded(() => this.clients.delete(connection));
    openClient(this.options.hub, connection, this.log, () =>
      endpoint.connected(connection, req, url),
    );
  }

  private ping(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        c.destroy();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }
}

/**
 * Puts a new client in the hub and lets its endpoint open it; an endpoint that
 * throws closes that client (1011) and nothing else.
 */
export function openClient<
  C extends Connection & { closeWith(code: number, reason: string): void },
>(hub: Hub, connection: C, log: Logger, connected: () => void): void {
  hub.attach(connection);
  try {
    connected();
  } catch (err) {
    log.error('an endpoint failed to open a client', {
      path: connection.info.requestPath,
      error: String(err),
    });
    connection.closeWith(1011, 'internal error');
  }
}

/** The refusal of a page whose origin may not connect. */
export function forbiddenOrigin(req: IncomingMessage): StreamerError {
  return new StreamerError(
    'RXS_ERR_FORBIDDEN',
    `pages from ${String(req.headers.origin)} may not connect (ALLOWED_ORIGINS)`,
    403,
  );
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
