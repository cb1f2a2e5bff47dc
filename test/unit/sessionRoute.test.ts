// The session a request names, by the shape of its target alone, and the slot
// a session lives on: what the cluster primary routes by, and a worker checks.
import { describe, expect, it } from 'vitest';
import { sessionIdOf, slotOf } from '../../src/transports/http/sessionRoute.js';

describe('sessionIdOf', () => {
  it.each([
    'xhr',
    'xhr_send',
    'xhr_streaming',
    'eventsource',
    'htmlfile',
    'jsonp',
    'jsonp_send',
    'websocket',
  ])('reads the session of a %s request under any prefix', (transport) => {
    expect(sessionIdOf(`/pubsub/123/abc-DEF_9/${transport}`)).toBe('abc-DEF_9');
    expect(sessionIdOf(`/a/b/datastream/000/s1/${transport}`)).toBe('s1');
    expect(sessionIdOf(`/x/000/s2/${transport}/`)).toBe('s2');
  });

  it('ignores the query (a JSONP callback, a cache buster) and reads absolute-form targets', () => {
    expect(sessionIdOf('/pubsub/1/s/htmlfile?c=_jp.a1b2')).toBe('s');
    expect(sessionIdOf('/pubsub/1/s/jsonp?c=x/1/t/xhr')).toBe('s');
    expect(sessionIdOf('/pubsub/1/s/xhr#frag')).toBe('s');
    expect(sessionIdOf('http://example.com:8001/pubsub/1/s/eventsource')).toBe('s');
  });

  it.each([
    '/pubsub/info',
    '/pubsub/info?t=1',
    '/pubsub/websocket',
    '/pubsub/iframe.html',
    '/pubsub',
    '/subscribe/details/1F602',
    '/subscribe/eps',
    '/pubsub/1/s/unknown',
    '/pubsub/1.1/s/xhr',
    '/pubsub/1/s.s/xhr',
    '/pubsub/1//xhr',
    '/1/s/xhr/extra',
    '',
    '*',
  ])('finds no session in %j', (target) => {
    expect(sessionIdOf(target)).toBeUndefined();
  });
});

describe('slotOf', () => {
  it('is stable and within range', () => {
    for (const slots of [1, 2, 3, 8]) {
      for (const id of ['a', 'abcdefgh', 'x'.repeat(200)]) {
        const slot = slotOf(id, slots);
        expect(slot).toBe(slotOf(id, slots));
        expect(slot).toBeGreaterThanOrEqual(0);
        expect(slot).toBeLessThan(slots);
      }
    }
  });

  it("spreads sockjs-client's random session ids evenly", () => {
    const counts = [0, 0, 0, 0];
    const letters = 'abcdefghijklmnopqrstuvwxyz012345';
    for (let i = 0; i < 4_000; i++) {
      let id = '';
      for (let j = 0; j < 8; j++) id += letters.charAt(Math.floor(Math.random() * letters.length));
      const slot = slotOf(id, 4);
      counts[slot] = (counts[slot] ?? 0) + 1;
    }
    for (const n of counts) expect(n).toBeGreaterThan(800);
  });
});
