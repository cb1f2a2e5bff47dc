// SockJS's iframe (`<prefix>/iframe*.html`, for its iframe transports) served
// with the server's own copy of sockjs-client, pinned by its integrity hash,
// instead of sockjs's default of an unpinned client from a public CDN: it runs
// with the server's origin, so what it loads must be what was installed. Only
// the pages that may connect (ALLOWED_ORIGINS) may frame it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { RequestHandler } from 'express';
import type { AllowedOrigins } from '../../core/origins.js';
import { literal } from './sockJsPaths.js';

const CLIENT_FILE = 'sockjs.min.js';

interface Client {
  readonly body: Buffer;
  readonly integrity: string;
  readonly etag: string;
}

let client: Client | undefined;

/** The installed sockjs-client, read once. */
function installedClient(): Client {
  if (client) return client;
  const path = createRequire(import.meta.url).resolve(`sockjs-client/dist/${CLIENT_FILE}`);
  const body = readFileSync(path);
  const integrity = `sha384-${createHash('sha384').update(body).digest('base64')}`;
  client = { body, integrity, etag: `"${createHash('sha1').update(body).digest('hex')}"` };
  return client;
}

function page(integrity: string): string {
  return `<!DOCTYPE html>
<html>
<head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
  <script src="${CLIENT_FILE}" integrity="${integrity}" crossorigin="anonymous"></script>
  <script>
    document.domain = document.domain;
    SockJS.bootstrap_iframe();
  </script>
</head>
<body>
  <h2>Don't panic!</h2>
  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>
</body>
</html>`;
}

/** `frame-ancestors` for the pages that may connect: this origin, and ALLOWED_ORIGINS. */
function ancestors(allowed: AllowedOrigins): string {
  return allowed === '*' ? '*' : ["'self'", ...allowed].join(' ');
}

/** Answers `<prefix>/iframe*.html` and `<prefix>/sockjs.min.js`; anything else goes on. */
export function sockJsIframe(prefix: string, allowed: AllowedOrigins): RequestHandler {
  const iframePath = new RegExp(`^${literal(prefix)}/iframe[0-9-.a-z_]*\\.html$`);
  const scriptPath = `${prefix}/${CLIENT_FILE}`;
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path === scriptPath) {
      const { body, etag } = installedClient();
      res.setHeader('Content-Type', 'application/javascript; charset=UTF-8');
      res.setHeader('Cache-Control', 'public, max-age=86400');
      res.setHeader('ETag', etag);
      if (req.headers['if-none-match'] === etag) return void res.status(304).end();
      return void res.end(req.method === 'HEAD' ? undefined : body);
    }
    if (!iframePath.test(req.path)) return next();
    const { integrity } = installedClient();
    res.setHeader('Content-Type', 'text/html; charset=UTF-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Security-Policy', `frame-ancestors ${ancestors(allowed)}`);
    res.end(req.method === 'HEAD' ? undefined : page(integrity));
  };
}
