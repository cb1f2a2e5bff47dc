// What a protocol sees of a request when it decides on a stream (or, later, a
// WebSocket handshake): method, path, query, headers and the client's address,
// the same whether the front door read the head or Node's HTTP server did.
import type { IncomingMessage } from 'node:http';
import type { RequestHead } from './requestHead.js';
import { normalizeIp } from './clientAddress.js';

export interface StreamRequest {
  readonly method: string;
  /** The request target's path, without the query. */
  readonly path: string;
  /** The query string's parameters. */
  readonly query: URLSearchParams;
  /** A header by lower-case name (cookies, `authorization`, `last-event-id`…). */
  header(name: string): string | undefined;
  /** The client's address behind the trusted proxies; IPv4-mapped addresses as IPv4. */
  readonly clientIp: string;
}

/** An absolute-form target's scheme and authority (`http://host:8001`). */
const ORIGIN_PART = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/**
 * A request target's path, without the query: for an absolute-form target
 * (`GET http://host/subscribe/eps`, which servers must accept) the path it names.
 */
export function pathOf(target: string): string {
  const from = target.startsWith('/') ? 0 : (ORIGIN_PART.exec(target)?.[0].length ?? 0);
  const q = target.indexOf('?', from);
  const path = q === -1 ? target.slice(from) : target.slice(from, q);
  return path === '' ? '/' : path;
}

function queryOf(target: string): () => URLSearchParams {
  let query: URLSearchParams | undefined;
  return () => {
    if (!query) {
      const q = target.indexOf('?');
      query = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
    }
    return query;
  };
}

/** A head the front door read, with the client address it worked out. */
export function requestFromHead(head: RequestHead, clientIp: string): StreamRequest {
  const query = queryOf(head.target);
  return {
    method: head.method,
    path: pathOf(head.target),
    get query() {
      return query();
    },
    header: (name) => head.headers.get(name),
    clientIp: normalizeIp(clientIp),
  };
}

/** A request Node's HTTP server (and express) parsed. */
export function requestFromIncoming(req: IncomingMessage): StreamRequest {
  // Express keeps the full target in originalUrl and the proxy-aware address in ip.
  const { originalUrl, ip } = req as IncomingMessage & { originalUrl?: string; ip?: string };
  const target = originalUrl ?? req.url ?? '/';
  const query = queryOf(target);
  return {
    method: req.method ?? 'GET',
    path: pathOf(target),
    get query() {
      return query();
    },
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    clientIp: normalizeIp(ip ?? req.socket.remoteAddress ?? ''),
  };
}
