// Which web pages may open WebSocket and SockJS connections. A browser sends
// the page's origin with every handshake and lets any page open a socket to any
// server, with that server's cookies: an authenticator that reads a cookie would
// let another site act as its visitor (cross-site WebSocket hijacking). So the
// handshake's Origin must be this server's own (the Host it was asked for) or
// one of the allowed origins. A request with no Origin is not from a page
// (curl, a server's client), and is let through: what it could forge, it could
// forge anyway. A refused page is told why in a way its browser lets it read.
import type { IncomingHttpHeaders } from 'node:http';
import { StreamerError } from './errors.js';

/** `*` (any page) or the origins allowed besides the server's own. */
export type AllowedOrigins = '*' | readonly string[];

/** Reads `https://a.example, http://b.example:8080` or `*`; throws naming the bad entry. */
export function parseOrigins(value: string): AllowedOrigins {
  if (value.trim() === '*') return '*';
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      let url: URL;
      try {
        url = new URL(entry);
      } catch {
        throw new Error(`${entry} is not an origin (scheme://host[:port])`);
      }
      const bare = url.pathname === '/' && !url.search && !url.hash && !url.username;
      if (!/^https?:$/.test(url.protocol) || !bare || entry.endsWith('/'))
        throw new Error(`${entry} is not an origin (http or https, host and port, no path)`);
      return url.origin;
    });
}

/** The origins of the default: CORS_ORIGIN when it names one origin, none when it is `*`. */
export function defaultOrigins(corsOrigin: string): AllowedOrigins {
  if (corsOrigin === '*') return [];
  try {
    return parseOrigins(corsOrigin);
  } catch {
    return [];
  }
}

/** Whether a request's Origin (if it has one) may connect. */
export function originAllowed(headers: IncomingHttpHeaders, allowed: AllowedOrigins): boolean {
  const origin = headers.origin;
  if (origin === undefined || allowed === '*') return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    // `null` (a sandboxed page, a file) and anything unreadable: no page we know.
    return false;
  }
  if (url.host === (headers.host ?? '').toLowerCase()) return true;
  return allowed.includes(url.origin);
}

/**
 * The refusal of a request from a page whose origin may not connect, or
 * undefined when it may: a 403 whose message names the origin, the Host it was
 * compared with and ALLOWED_ORIGINS. A browser hides from the page (and shows
 * as a CORS error) any answer that its CORS headers do not open to it, and
 * sockjs-client asks with credentials, for which `*` does not count: so the
 * refusal, and nothing else, is opened to the refused origin itself. It tells
 * that page only what it sent.
 */
export function originRefusal(
  headers: IncomingHttpHeaders,
  allowed: AllowedOrigins,
): StreamerError | undefined {
  if (originAllowed(headers, allowed)) return undefined;
  const origin = String(headers.origin);
  const host = headers.host ?? '(none)';
  return new StreamerError(
    'RXS_ERR_FORBIDDEN',
    `pages from ${origin} may not connect: that origin is not this server's (Host: ${host}) and not in ALLOWED_ORIGINS`,
    403,
    readableBy(origin),
  );
}

/** CORS headers that let a page of `origin` read an answer; none for `null` or a malformed one. */
function readableBy(origin: string): Record<string, string> {
  let serialized: string;
  try {
    serialized = new URL(origin).origin;
  } catch {
    return { Vary: 'Origin' };
  }
  // Echoed only as the browser sent it, so that nothing but an origin reaches a header.
  if (serialized !== origin) return { Vary: 'Origin' };
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Credentials': 'true',
    Vary: 'Origin',
  };
}
