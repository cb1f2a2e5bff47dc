// Marble tests for diffSets: the first set whole, then only changes, in a stable order,
// with each subscription diffing against its own previous set.
import { describe, it } from 'vitest';
import { diffSets } from '../../src/operators/diffSets.js';
import type { SetDiff } from '../../src/operators/diffSets.js';
import { testScheduler } from './testScheduler.js';

/** An empty set, typed: a bare `[]` would make the source's sets `never[]`. */
const empty: string[] = [];

function change(added: string[], removed: string[], current: string[]): SetDiff<string> {
  return { added, removed, current: new Set(current), first: false };
}

function firstSet(keys: string[]): SetDiff<string> {
  return { added: keys, removed: [], current: new Set(keys), first: true };
}

describe('diffSets', () => {
  it('emits the first set with every key added and first set', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      // Any iterable will do: a Set here, the string[] of an SMEMBERS reply elsewhere.
      const source = hot('-a-|', { a: new Set(['x', 'y']) });
      expectObservable(source.pipe(diffSets())).toBe('-d-|', { d: firstSet(['x', 'y']) });
    });
  });

  it('emits a first set that is empty', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-|', { a: empty });
      expectObservable(source.pipe(diffSets())).toBe('-d-|', { d: firstSet([]) });
    });
  });

  it('emits an added key', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-|', { a: ['x'], b: ['x', 'y'] });
      expectObservable(source.pipe(diffSets())).toBe('-d-e-|', {
        d: firstSet(['x']),
        e: change(['y'], [], ['x', 'y']),
      });
    });
  });

  it('emits a removed key', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-|', { a: ['x', 'y'], b: ['y'] });
      expectObservable(source.pipe(diffSets())).toBe('-d-e-|', {
        d: firstSet(['x', 'y']),
        e: change([], ['x'], ['y']),
      });
    });
  });

  it('emits keys added and removed at once, added in incoming order', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-|', { a: ['x', 'y'], b: ['w', 'y', 'z', 'v'] });
      expectObservable(source.pipe(diffSets())).toBe('-d-e-|', {
        d: firstSet(['x', 'y']),
        e: change(['w', 'z', 'v'], ['x'], ['w', 'y', 'z', 'v']),
      });
    });
  });

  it('emits nothing for a set equal to the previous one, in whatever order', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c-d-|', { a: ['x', 'y'], b: ['x', 'y'], c: ['y', 'x'], d: ['y'] });
      expectObservable(source.pipe(diffSets())).toBe('-d-----e-|', {
        d: firstSet(['x', 'y']),
        e: change([], ['x'], ['y']),
      });
    });
  });

  it('counts a key repeated in one iterable once', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c-|', { a: ['x', 'x', 'y'], b: ['y', 'y', 'x'], c: ['z', 'z'] });
      expectObservable(source.pipe(diffSets())).toBe('-d---e-|', {
        d: firstSet(['x', 'y']),
        e: change(['z'], ['y', 'x'], ['z']),
      });
    });
  });

  it('emits every key removed, in the previous set order, when a set becomes empty', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c-|', { a: ['z', 'y', 'x'], b: empty, c: empty });
      expectObservable(source.pipe(diffSets())).toBe('-d-e---|', {
        d: firstSet(['z', 'y', 'x']),
        e: change([], ['z', 'y', 'x'], []),
      });
    });
  });

  it('passes an error through', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const error = new Error('redis gone');
      const source = hot('-a-b-#', { a: ['x'], b: ['x', 'y'] }, error);
      expectObservable(source.pipe(diffSets())).toBe(
        '-d-e-#',
        { d: firstSet(['x']), e: change(['y'], [], ['x', 'y']) },
        error,
      );
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('passes the completion through, right after the last set', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-(b|)', { a: ['x'], b: empty });
      expectObservable(source.pipe(diffSets())).toBe('-d-(e|)', {
        d: firstSet(['x']),
        e: change([], ['x'], []),
      });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('completes without emitting for an empty source', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<string[]>('|');
      expectObservable(source.pipe(diffSets())).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  it('emits nothing for a source that never emits', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot<string[]>('-');
      expectObservable(source.pipe(diffSets())).toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('unsubscribes from the source on early unsubscribe', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-|', { a: ['x'], b: ['y'], c: ['z'] });
      const unsub = '     ^---!';
      expectObservable(source.pipe(diffSets()), unsub).toBe('-d-e', {
        d: firstSet(['x']),
        e: change(['y'], ['x'], ['y']),
      });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('keeps a previous set per subscription: a late subscriber starts from its own first', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c-|', { a: ['x'], b: ['x', 'y'], c: ['y'] });
      const diffed = source.pipe(diffSets());
      expectObservable(diffed).toBe('-d-e-f-|', {
        d: firstSet(['x']),
        e: change(['y'], [], ['x', 'y']),
        f: change([], ['x'], ['y']),
      });
      // Sharing the first subscriber's state, b would read as "y added", not a first set.
      expectObservable(diffed, '--^').toBe('---e-f-|', {
        e: firstSet(['x', 'y']),
        f: change([], ['x'], ['y']),
      });
    });
  });
});
