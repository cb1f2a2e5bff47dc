// SockJS's iframe, against a real server process: it loads the installed
// sockjs-client from the server itself, pinned by its integrity hash (never a
// CDN's), and only the server's own pages and ALLOWED_ORIGINS may frame it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { serverForFile } from '../support/process.js';

const installed = readFileSync(
  createRequire(import.meta.url).resolve('sockjs-client/dist/sockjs.min.js'),
);

const server = serverForFile({
  ALLOWED_ORIGINS: 'https://a.example',
});

it.each(['/pubsub/iframe.html', '/pubsub/iframe-1.6.1.html', '/datastream/iframe.html'])(
  '%s loads the local client by its integrity hash, and may be framed by allowed pages only',
  async (path) => {
    const res = await fetch(`${server().url}${path}`, {
      headers: { Origin: 'https://evil.example' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(
      "frame-ancestors 'self' https://a.example",
    );
    const html = await res.text();
    const integrity = `sha384-${createHash('sha384').update(installed).digest('base64')}`;
    expect(html).toContain(
      `<script src="sockjs.min.js" integrity="${integrity}" crossorigin="anonymous"></script>`,
    );
    expect(html).not.toMatch(/https?:\/\//);
  },
);

it('serves the installed sockjs-client beside it', async () => {
  const res = await fetch(`${server().url}/pubsub/sockjs.min.js`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
  expect(Buffer.from(await res.arrayBuffer()).equals(installed)).toBe(true);
});
