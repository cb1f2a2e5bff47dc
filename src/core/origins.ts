// Which web pages may open WebSocket and SockJS connections. A browser sends
// the page's origin with every handshake and lets any page open a socket to any
// server, with that server's cookies: an authenticator that reads a cookie would
// let another site act as its visitor (cross-site WebSocket hijacking). So the
// handshake's Origin must be this server's own (the Host it was asked for) or
// one of the allowed origins. A request with no Origin is not from a page
// (curl, a server's client), and is let through: what it could forge, it could
// forge anyway.
import type { IncomingHttpHeaders } from 'node:http';

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
