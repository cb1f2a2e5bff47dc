// The stream table's matching: prefixes, plain paths, and exact paths such as
// the site root, and the request-line beginnings it gives the front door.
import { describe, expect, it } from 'vitest';
import type { StreamRequest } from '../../src/transports/http/StreamRequest.js';
import type { SseTransport } from '../../src/transports/sse/SseTransport.js';
import { StreamRoutes } from '../../src/transports/sse/StreamRoutes.js';

const request = (target: string): StreamRequest => {
  const q = target.indexOf('?');
  return {
    method: 'GET',
    path: q === -1 ? target : target.slice(0, q),
    query: new URLSearchParams(q === -1 ? '' : target.slice(q + 1)),
    header: () => undefined,
    clientIp: '127.0.0.1',
  };
};

function table(): StreamRoutes {
  const routes = new StreamRoutes();
  routes.add('/subscribe/', ({ path }) => ({ family: 'prefix', namespace: path }));
  routes.add('/hearts', () => ({ family: 'plain' }));
  routes.add('/', ({ query }) => (query.has('user') ? { family: 'root' } : undefined), {
    exact: true,
  });
  return routes;
}

describe('StreamRoutes', () => {
  it('matches prefixes, plain paths and exact paths', () => {
    const routes = table();
    const family = (target: string) =>
      (routes.resolve(request(target)) as { family: string } | undefined)?.family;
    expect(family('/subscribe/eps')).toBe('prefix');
    expect(family('/hearts')).toBe('plain');
    expect(family('/hearts/x')).toBeUndefined();
    expect(family('/?user=1')).toBe('root');
    // The root is exact: nothing else falls under it, and without `user` it is the page.
    expect(family('/')).toBeUndefined();
    expect(family('/index.html?user=1')).toBeUndefined();
  });

  it('asks the front door to read heads only for the paths it serves', () => {
    const door = table().frontDoor({} as SseTransport, false);
    expect(door.prefixes).toEqual([
      'GET /subscribe/',
      'GET /hearts ',
      'GET /hearts?',
      'GET / ',
      'GET /?',
    ]);
  });
});
