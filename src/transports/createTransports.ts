// The transports of one server, configured once: SSE streams (with the stream
// table that routes them), WebSocket endpoints, and the session server that puts
// every message endpoint on a WebSocket and SockJS.
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Hub } from '../fanout/Hub.js';
import { corsHeaders } from './http/cors.js';
import { SessionServer } from './SessionServer.js';
import { SseTransport } from './sse/SseTransport.js';
import { StreamRoutes } from './sse/StreamRoutes.js';
import { sseRetry } from './sse/sseEncode.js';
import { WsTransport } from './ws/WsTransport.js';

export interface Transports {
  readonly sse: SseTransport;
  readonly streams: StreamRoutes;
  readonly ws: WsTransport;
  readonly sessions: SessionServer;
}

export function createTransports(config: Config, hub: Hub, logger: Logger): Transports {
  const ws = new WsTransport({
    hub,
    maxFrameBytes: config.wsMaxFrameBytes,
    pingMs: config.wsPingMs,
    maxMessagesPerS: config.wsMaxMessagesPerS,
    trustProxy: config.trustProxy,
    allowedOrigins: config.allowedOrigins,
    logger,
  });
  return {
    sse: new SseTransport({
      hub,
      headers: corsHeaders(config.corsOrigin),
      farewell: sseRetry(config.shutdownRetryMs),
    }),
    streams: new StreamRoutes(),
    ws,
    sessions: new SessionServer({
      hub,
      ws,
      maxFrameBytes: config.wsMaxFrameBytes,
      maxMessagesPerS: config.wsMaxMessagesPerS,
      trustProxy: config.trustProxy,
      allowedOrigins: config.allowedOrigins,
      logger,
    }),
  };
}
