// Cross-origin access, in one place: the header every response carries (streams
// answered on the bare socket included) and the answer to a preflight.
import type { RequestHandler } from 'express';

export function corsHeaders(origin: string): Readonly<Record<string, string>> {
  return { 'Access-Control-Allow-Origin': origin };
}

export function corsMiddleware(origin: string): RequestHandler {
  const headers = corsHeaders(origin);
  return (req, res, next) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Last-Event-ID, Cache-Control');
    res.setHeader('Access-Control-Max-Age', '86400');
    res.status(204).end();
  };
}
