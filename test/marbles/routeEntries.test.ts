// Marble tests for routeEntries: one routed value per entry, in step with it; too many
// deliveries and unreadable entries become dead letters and the queue goes on.
import { describe, expect, it } from 'vitest';
import { routeEntries } from '../../src/operators/routeEntries.js';
import type { Parsed, Routed } from '../../src/operators/routeEntries.js';
import { testScheduler } from './testScheduler.js';

interface Entry {
  readonly id: string;
  readonly deliveries: number;
  readonly body: string;
}

const entry = (id: string, body: string, deliveries = 1): Entry => ({ id, body, deliveries });
const deliver = (e: Entry, message: string): Routed<Entry, string> => ({
  kind: 'deliver',
  entry: e,
  message,
});
const dead = (e: Entry, reason: string): Routed<Entry, string> => ({
  kind: 'dead',
  entry: e,
  reason,
});

/** A parser that records the ids it saw: `bad` is refused, `boom` throws, the rest shout. */
function parser(): { parse: (e: Entry) => Parsed<string>; seen: string[] } {
  const seen: string[] = [];
  const parse = (e: Entry): Parsed<string> => {
    seen.push(e.id);
    if (e.body === 'bad') return { ok: false, reason: 'not JSON' };
    if (e.body === 'boom') throw new Error('unexpected token');
    return { ok: true, value: e.body.toUpperCase() };
  };
  return { parse, seen };
}

const options = { maxDeliveries: 3 };

describe('routeEntries', () => {
  it('emits nothing for entries that never come', () => {
    const scheduler = testScheduler();
    const { parse, seen } = parser();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const entries = hot<Entry>('-');
      expectObservable(entries.pipe(routeEntries(parse, options))).toBe('-');
      expectSubscriptions(entries.subscriptions).toBe('^');
    });
    expect(seen).toEqual([]);
  });

  it('completes for no entries', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const entries = cold<Entry>('|');
      expectObservable(entries.pipe(routeEntries(parser().parse, options))).toBe('|');
      expectSubscriptions(entries.subscriptions).toBe('(^!)');
    });
  });

  it('delivers one readable entry with its message, in the same frame', () => {
    const scheduler = testScheduler();
    const a = entry('1-0', 'hi');
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const entries = hot('-a--|', { a });
      const expected = '   -x--|';
      expectObservable(entries.pipe(routeEntries(parser().parse, options))).toBe(expected, {
        x: deliver(a, 'HI'),
      });
      expectSubscriptions(entries.subscriptions).toBe('^---!');
    });
  });

  it('routes many entries in order: delivered, refused, over-delivered', () => {
    const scheduler = testScheduler();
    const { parse, seen } = parser();
    const a = entry('1-0', 'one');
    const b = entry('2-0', 'bad');
    const c = entry('3-0', 'bad', 4);
    const d = entry('4-0', 'four', 3);
    scheduler.run(({ hot, expectObservable }) => {
      const entries = hot('-a-(bcd)-|', { a, b, c, d });
      const expected = '   -w-(xyz)-|';
      expectObservable(entries.pipe(routeEntries(parse, options))).toBe(expected, {
        w: deliver(a, 'ONE'),
        x: dead(b, 'not JSON'),
        // 4 > 3: that many were handed out and none acknowledged, whatever the body.
        y: dead(c, 'failed 3 deliveries'),
        // 3 is not over the limit: the last try is still a try.
        z: deliver(d, 'FOUR'),
      });
    });
    // The over-delivered entry is never parsed.
    expect(seen).toEqual(['1-0', '2-0', '4-0']);
  });

  it('makes a dead letter of an entry the parser throws on, and goes on', () => {
    const scheduler = testScheduler();
    const a = entry('1-0', 'boom');
    const b = entry('2-0', 'fine');
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const entries = hot('-a-b-|', { a, b });
      const expected = '   -x-y-|';
      expectObservable(entries.pipe(routeEntries(parser().parse, options))).toBe(expected, {
        x: dead(a, 'could not be read: unexpected token'),
        y: deliver(b, 'FINE'),
      });
      expectSubscriptions(entries.subscriptions).toBe('^----!');
    });
  });

  it('names a thrown non-Error by its string', () => {
    const scheduler = testScheduler();
    const a = entry('1-0', 'x');
    const parse = (): Parsed<string> => {
      throw 'no fields'; // eslint-disable-line @typescript-eslint/only-throw-error
    };
    scheduler.run(({ hot, expectObservable }) => {
      const entries = hot('-a-|', { a });
      expectObservable(entries.pipe(routeEntries(parse, options))).toBe('-x-|', {
        x: dead(a, 'could not be read: no fields'),
      });
    });
  });

  it('passes a source error through', () => {
    const scheduler = testScheduler();
    const error = new Error('stream gone');
    const a = entry('1-0', 'hi');
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const entries = hot('-a-#', { a }, error);
      const expected = '   -x-#';
      expectObservable(entries.pipe(routeEntries(parser().parse, options))).toBe(
        expected,
        { x: deliver(a, 'HI') },
        error,
      );
      expectSubscriptions(entries.subscriptions).toBe('^--!');
    });
  });

  it('keeps routing entries that never end', () => {
    const scheduler = testScheduler();
    const a = entry('1-0', 'hi');
    const b = entry('2-0', 'bad');
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const entries = hot('-a--b--', { a, b });
      expectObservable(entries.pipe(routeEntries(parser().parse, options))).toBe('-x--y--', {
        x: deliver(a, 'HI'),
        y: dead(b, 'not JSON'),
      });
      expectSubscriptions(entries.subscriptions).toBe('^');
    });
  });

  it('stops reading the source on early unsubscribe', () => {
    const scheduler = testScheduler();
    const { parse, seen } = parser();
    const a = entry('1-0', 'hi');
    const b = entry('2-0', 'later');
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const entries = hot('-a---b-|', { a, b });
      const unsub = '      ^--!';
      expectObservable(entries.pipe(routeEntries(parse, options)), unsub).toBe('-x-', {
        x: deliver(a, 'HI'),
      });
      expectSubscriptions(entries.subscriptions).toBe('^--!');
    });
    expect(seen).toEqual(['1-0']);
  });
});
