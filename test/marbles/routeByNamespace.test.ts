// Marble tests for routeByNamespace: one group per key, each ending after idleMs
// without traffic, and errors reaching every open group.
import { map, mergeMap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { routeByNamespace } from '../../src/operators/routeByNamespace.js';
import { testScheduler } from './testScheduler.js';

/** Values are "<key><n>": "a1" and "a2" share the route "a". */
const keyOf = (value: string): string => value.slice(0, 1);

const values = { a: 'a1', b: 'b1', c: 'a2', d: 'b2', e: 'a3' };

describe('routeByNamespace', () => {
  it('emits no group for a source that never emits', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-');
      expectObservable(source.pipe(routeByNamespace(keyOf, 5, scheduler))).toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('completes without a group for an empty source', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('|');
      expectObservable(source.pipe(routeByNamespace(keyOf, 5, scheduler))).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  it('opens one group for one value, ended by the source completing', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable }) => {
      const source = hot('--a--|', values);
      expectObservable(source.pipe(routeByNamespace(keyOf, 5, scheduler))).toBe('--x--|', {
        x: cold('a--|', values),
      });
    });
  });

  it('groups many values per key and ends each group idleMs after its last value', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable }) => {
      // Route "a" last hears at 5 and ends at 10; "b" last hears at 8 and ends at
      // 13; "a" comes back at 15 in a new group, which ends at 20.
      const source = hot('-a-b-c--d------e------|', values);
      const expected = '  -x-y 11ms z------|';
      expectObservable(source.pipe(routeByNamespace(keyOf, 5, scheduler))).toBe(expected, {
        x: cold('a---c----|', values),
        y: cold('b----d----|', values),
        z: cold('e----|', values),
      });
    });
  });

  it('keeps a busy group open: each value restarts its idle time', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable }) => {
      const source = hot('-a---c---e---c---e 20ms |', values);
      const expected = '  -x 36ms |';
      expectObservable(source.pipe(routeByNamespace(keyOf, 5, scheduler))).toBe(expected, {
        x: cold('a---c---e---c---e----|', values),
      });
    });
  });

  it('opens a new group for a key that comes back after its group ended', () => {
    const scheduler = testScheduler();
    const seen: string[] = [];
    scheduler.run(({ hot, cold, expectObservable }) => {
      const source = hot('-a 9ms c 9ms e|', values);
      const routes = source.pipe(routeByNamespace(keyOf, 5, scheduler));
      // The same key thrice, each time after the previous group went idle.
      expectObservable(routes).toBe('-x 9ms y 9ms z|', {
        x: cold('a----|', values),
        y: cold('c----|', values),
        z: cold('e|', values),
      });
      routes.subscribe((route) => seen.push(route.key));
    });
    expect(seen).toEqual(['a', 'a', 'a']);
  });

  it('passes an error to the subscriber and to every open group', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const error = new Error('redis gone');
      const source = hot('-a-b-c-#', values, error);
      expectObservable(source.pipe(routeByNamespace(keyOf, 5, scheduler))).toBe(
        '-x-y---#',
        { x: cold('a---c-#', values, error), y: cold('b---#', values, error) },
        error,
      );
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  it('ends idle groups while a never-ending source stays subscribed', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c---', values);
      expectObservable(source.pipe(routeByNamespace(keyOf, 5, scheduler))).toBe('-x-y', {
        x: cold('a---c----|', values),
        y: cold('b----|', values),
      });
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('unsubscribes from the source on early unsubscribe of the routed stream', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-d-e-|', values);
      const unsub = '     ^-----!';
      const routed = source.pipe(
        routeByNamespace(keyOf, 5, scheduler),
        mergeMap((route) => route.pipe(map((value) => `${route.key}:${value}`))),
      );
      expectObservable(routed, unsub).toBe('-a-b-c', { a: 'a:a1', b: 'b:b1', c: 'a:a2' });
      expectSubscriptions(source.subscriptions).toBe('^-----!');
    });
  });

  it('ends every group and releases the source when the outer unsubscribes', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      // The harness stays subscribed to each group, and so do the idle timers;
      // leaving must still release the upstream at once, not when the last
      // group goes idle.
      const source = hot('-a-b-c--------|', values);
      const unsub = '     ^---!';
      expectObservable(source.pipe(routeByNamespace(keyOf, 5, scheduler)), unsub).toBe('-x-y', {
        x: cold('a--|', values),
        y: cold('b|', values),
      });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('errors the stream and its open groups when the key selector throws', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const error = new Error('bad channel');
      const source = hot('-a-b-c-|', values);
      const throwingKeyOf = (value: string): string => {
        if (value === 'b1') throw error;
        return keyOf(value);
      };
      expectObservable(source.pipe(routeByNamespace(throwingKeyOf, 5, scheduler))).toBe(
        '-x-#',
        { x: cold('a-#', values, error) },
        error,
      );
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
});
