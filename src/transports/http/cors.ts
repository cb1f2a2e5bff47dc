// Cross-origin access, in one place: the header every response carries (streams
// answered on the bare socket included) and the answer to a preflight. Paths
// under an excepted prefix (the private /admin) get neither.
import type { RequestHandler } from 'express';

export function corsHeaders(origin: string): Readonly<Record<string, string>> {
  return { 'Access-Control-Allow-Origin': origin };
}

export interface CorsOptions {
  /** Path prefixes (`/admin`) whose responses carry no CORS header and answer no preflight. */
  readonly except?: readonly string[];
}

/**
 * Whether `path` is `prefix` or lies under it (`/admin`, `/admin/x`; not `/administer`),
 * ignoring case as express's routing does.
 */
function under(path: string, prefix: string): boolean {
  const p = path.toLowerCase();
  const base = prefix.toLowerCase().replace(/\/+$/, '');
  return p === base || p.startsWith(`${base}/`);
}

/** Sets the CORS header on every response but the excepted paths' and answers preflights. */
export function corsMiddleware(origin: string, options: CorsOptions = {}): RequestHandler {
  const headers = corsHeaders(origin);
  const except = options.except ?? [];
  return (req, res, next) => {
    if (except.some((prefix) => under(req.path, prefix))) return next();
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Last-Event-ID, Cache-Control');
    res.setHeader('Access-Control-Max-Age', '86400');
    res.status(204).end();
  };
}
