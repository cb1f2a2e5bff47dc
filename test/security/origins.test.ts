// WebSocket and SockJS connections from other sites' pages are refused (403),
// so an authenticator that reads a cookie cannot be used by another site
// (cross-site WebSocket hijacking): the server's own pages, the allowed
// origins, and clients that are no page (no Origin) connect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { StreamerError } from '../../src/core/errors.js';
import {
  defaultOrigins,
  originAllowed,
  originRefusal,
  parseOrigins,
} from '../../src/core/origins.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { isControl, openWs, rawUpgrade } from '../support/ws.js';

describe('the allowed origins', () => {
  it('reads a list of origins or *, and refuses what is not an origin', () => {
    expect(parseOrigins('*')).toBe('*');
    expect(parseOrigins(' https://a.example , http://B.example:8080 ')).toEqual([
      'https://a.example',
      'http://b.example:8080',
    ]);
    for (const bad of ['a.example', 'https://a.example/path', 'ftp://a.example', 'https://a/'])
      expect(() => parseOrigins(bad), bad).toThrow(/is not an origin/);
  });

  it('takes CORS_ORIGIN by default when it names one origin', () => {
    expect(defaultOrigins('*')).toEqual([]);
    expect(defaultOrigins('https://app.example')).toEqual(['https://app.example']);
    expect(loadConfig({ CORS_ORIGIN: 'https://app.example' }).allowedOrigins).toEqual([
      'https://app.example',
    ]);
    expect(loadConfig({}).allowedOrigins).toEqual([]);
  });

  it('stops the start with the variable named', () => {
    expect(() => loadConfig({ ALLOWED_ORIGINS: 'https://a.example/x' })).toThrow(StreamerError);
    expect(() => loadConfig({ ALLOWED_ORIGINS: 'https://a.example/x' })).toThrow(/ALLOWED_ORIGINS/);
  });

  it('lets through no Origin, the same host, the listed origins, and * any', () => {
    const host = 'rx.example:8001';
    const allowed = ['https://app.example'];
    expect(originAllowed({ host }, allowed)).toBe(true);
    expect(originAllowed({ host, origin: 'https://rx.example:8001' }, allowed)).toBe(true);
    expect(originAllowed({ host, origin: 'https://app.example' }, allowed)).toBe(true);
    expect(originAllowed({ host, origin: 'https://evil.example' }, allowed)).toBe(false);
    expect(originAllowed({ host, origin: 'https://rx.example' }, allowed)).toBe(false);
    expect(originAllowed({ host, origin: 'null' }, allowed)).toBe(false);
    expect(originAllowed({ host, origin: 'https://evil.example' }, '*')).toBe(true);
  });

  it('refuses with a 403 that names the origin, the Host and ALLOWED_ORIGINS, readable by that origin only', () => {
    const host = 'rx.example:8001';
    expect(originRefusal({ host, origin: 'https://rx.example:8001' }, [])).toBeUndefined();
    const refusal = originRefusal({ host, origin: 'https://evil.example' }, []);
    expect(refusal?.status).toBe(403);
    expect(refusal?.code).toBe('RXS_ERR_FORBIDDEN');
    expect(refusal?.message).toBe(
      "pages from https://evil.example may not connect: that origin is not this server's (Host: rx.example:8001) and not in ALLOWED_ORIGINS",
    );
    expect(refusal?.headers).toEqual({
      'Access-Control-Allow-Origin': 'https://evil.example',
      'Access-Control-Allow-Credentials': 'true',
      Vary: 'Origin',
    });
    // Nothing but a browser's own serialization of an origin is echoed.
    for (const origin of ['null', 'HTTPS://EVIL.example', 'https://evil.example/', 'x y'])
      expect(originRefusal({ host, origin }, [])?.headers, origin).toEqual({ Vary: 'Origin' });
  });
});

describe('handshakes from pages', () => {
  let app: TestApp;
  const EVIL = 'https://evil.example';
  const FRIEND = 'https://friend.example';

  beforeAll(async () => {
    app = await startApp({ source: new MemoryBus(), env: { ALLOWED_ORIGINS: FRIEND } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('refuses another site on /pubsub, /datastream and SockJS with 403 and a JSON body', async () => {
    for (const path of ['/pubsub', '/datastream?site=mrc', '/pubsub/000/abcdefgh/websocket']) {
      const answer = await rawUpgrade(app.port, path, { Origin: EVIL });
      expect(answer, path).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
        code: string;
        message: string;
      };
      expect(body.code).toBe('RXS_ERR_FORBIDDEN');
      expect(body.message).toMatch(/^pages from https:\/\/evil\.example .*ALLOWED_ORIGINS/);
    }
    // SockJS's HTTP transports too, without the wildcard every other answer has.
    const info = await fetch(`${app.url}/pubsub/info`, { headers: { Origin: EVIL } });
    expect(info.status).toBe(403);
    expect(info.headers.get('access-control-allow-origin')).toBe(EVIL);
    const body = (await info.json()) as { code: string; message: string };
    expect(body.code).toBe('RXS_ERR_FORBIDDEN');
    expect(body.message).toContain('ALLOWED_ORIGINS');
    const poll = await fetch(`${app.url}/pubsub/000/abcdefgh/xhr`, {
      method: 'POST',
      headers: { Origin: EVIL },
    });
    expect(poll.status).toBe(403);
  });

  it('lets the server’s own pages, the allowed origins and non-browser clients connect', async () => {
    const ownOrigin = `http://127.0.0.1:${app.port}`;
    const cases: Record<string, string>[] = [{ Origin: ownOrigin }, { Origin: FRIEND }, {}];
    for (const headers of cases) {
      const pubsub = await openWs(`ws://127.0.0.1:${app.port}/pubsub`, headers);
      pubsub.send({ action: 'subscribe', payload: { channel: 'open.to.all' } });
      await pubsub.next(isControl('Subscribed to open.to.all'));
      pubsub.close();
      const site = await openWs(`ws://127.0.0.1:${app.port}/datastream?site=mrc`, headers);
      await site.next(isControl('Subscribed to site mrc'));
      site.close();
    }
    const info = await fetch(`${app.url}/pubsub/info`, { headers: { Origin: FRIEND } });
    expect(info.status).toBe(200);
  });
});
