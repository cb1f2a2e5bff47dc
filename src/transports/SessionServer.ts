// Serves protocols' message endpoints on every message transport: a plain
// WebSocket at the endpoint's path and SockJS (its WebSocket and HTTP
// transports) at `<path>/`, so every WebSocket protocol works for
// sockjs-client too, and no protocol mounts a transport of its own.
import { Router } from 'express';
import type { Logger } from '../core/logger.js';
import type { AllowedOrigins } from '../core/origins.js';
import type { SessionEndpoint, SessionTransports } from '../core/session.js';
import type { Hub } from '../fanout/Hub.js';
import type { TrustProxy } from './http/clientAddress.js';
import { serveSockJs } from './sockjs/SockJsTransport.js';
import type { WsTransport } from './ws/WsTransport.js';

export interface SessionServerOptions {
  readonly hub: Hub;
  readonly ws: WsTransport;
  /** Messages over this close a session with 1009, on every transport. */
  readonly maxFrameBytes: number;
  /** Messages a second one session may send, on every transport. */
  readonly maxMessagesPerS?: number;
  readonly trustProxy: TrustProxy;
  /** Pages that may connect besides the server's own (ALLOWED_ORIGINS). */
  readonly allowedOrigins: AllowedOrigins;
  readonly logger: Logger;
}

export class SessionServer implements SessionTransports {
  /** SockJS's HTTP transports; mounted by the app before its 404. */
  readonly router = Router();

  constructor(private readonly options: SessionServerOptions) {}

  serve(path: string, endpoint: SessionEndpoint): void {
    this.options.ws.add(path, endpoint);
    serveSockJs({ ...this.options, prefix: path, endpoint, router: this.router });
  }
}
