// Serves protocols' message endpoints on every message transport: a plain
// WebSocket at the endpoint's path and SockJS (its WebSocket and HTTP
// transports) at `<path>/`, so every WebSocket protocol works for
// sockjs-client too, and no protocol mounts a transport of its own.
import { Router } from 'express';
import type { SessionEndpoint, SessionTransports } from '../core/session.js';
import { serveSockJs } from './sockjs/SockJsTransport.js';
import type { SessionTransportOptions } from './sockjs/SockJsTransport.js';

export type SessionServerOptions = SessionTransportOptions;

export class SessionServer implements SessionTransports {
  /** SockJS's HTTP transports; mounted by the app before its 404. */
  readonly router = Router();

  constructor(private readonly options: SessionServerOptions) {}

  serve(path: string, endpoint: SessionEndpoint): void {
    this.options.ws.add(path, endpoint);
    serveSockJs({ ...this.options, prefix: path, endpoint, router: this.router });
  }
}
