// The `sockjs` package's part of a SockJS endpoint: its server for one prefix,
// whose HTTP fallbacks (XHR streaming and polling, EventSource, JSONP…) open
// sessions that become hub connections of the endpoint's protocol. Imported by
// SockJsTransport with the first request under a prefix that it answers.
import type { IncomingMessage } from 'node:http';
import sockjs from 'sockjs';
import type { Connection as SockJsSession } from 'sockjs';
import { StreamerError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { SessionEndpoint, SessionRequest } from '../../core/session.js';
import { connectionInfo } from '../../fanout/Connection.js';
import type { Hub } from '../../fanout/Hub.js';
import { clientAddress, normalizeIp } from '../http/clientAddress.js';
import type { TrustFunction } from '../http/clientAddress.js';
import { parseCookies } from '../http/cookies.js';
import { SockJsConnection } from './SockJsConnection.js';
import { sockJsRefusalCode } from './SockJsWsConnection.js';

/** Answers a request under the prefix; false for one it does not serve. */
export type SockJsHandler = (req: IncomingMessage, res: unknown, head?: Buffer) => boolean;

export interface SockJsServerOptions {
  readonly hub: Hub;
  readonly prefix: string;
  readonly endpoint: SessionEndpoint;
  readonly trust: TrustFunction;
  /** Messages over this close a session with 1009. */
  readonly maxFrameBytes: number;
  /** Messages a second one session may send (0: any). */
  readonly maxMessagesPerS?: number;
  readonly logger: Logger;
}

/** What sockjs's Server has besides its typings: a listener per set of options. */
interface SockJsListenerSource {
  listener(options: { prefix: string }): { getHandler(): SockJsHandler };
}

export function sockJsServer(options: SockJsServerOptions): SockJsHandler {
  const { hub, prefix, endpoint, trust, logger: log } = options;
  const server = sockjs.createServer({
    prefix,
    // Its own logging goes to ours, quietly.
    log: (severity: string, message: string) => {
      if (severity === 'error') log.warn('sockjs', { message });
    },
    disconnect_delay: 5_000,
    // Its iframe is served by sockJsIframe with the installed client; never a CDN's.
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
  return (server as unknown as SockJsListenerSource).listener({ prefix }).getHandler();
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
