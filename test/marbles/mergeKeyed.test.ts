// Marble tests for mergeKeyed: one subscription per key for as long as the key stays,
// opened on add and closed on remove, with errors and completion of the whole merge.
import { startWith } from 'rxjs';
import type { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { diffSets } from '../../src/operators/diffSets.js';
import { mergeKeyed } from '../../src/operators/mergeKeyed.js';
import { readLatest } from '../../src/operators/readLatest.js';
import { testScheduler } from './testScheduler.js';

interface KeyDiff {
  added: string[];
  removed: string[];
}

const diff = (added: string[], removed: string[] = []): KeyDiff => ({ added, removed });

/** An open callback over fixed streams, recording the keys it was called with. */
function opener(
  streams: Record<string, Observable<string>>,
  opened: string[] = [],
): (key: string) => Observable<string> {
  return (key: string): Observable<string> => {
    opened.push(key);
    const stream = streams[key];
    if (stream === undefined) throw new Error(`no stream for key ${key}`);
    return stream;
  };
}

describe('mergeKeyed', () => {
  it('subscribes the stream of an added key at that frame', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const diffs = hot('-a-----', { a: diff(['x']) });
      const x = cold('   -1-2-3');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x })))).toBe('--1-2-3');
      expectSubscriptions(x.subscriptions).toBe('-^');
    });
  });

  it('adds a second key while the first keeps flowing on its one subscription', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const diffs = hot('-a---b----------', { a: diff(['x']), b: diff(['y']) });
      const x = cold('   --1--1--1--1--1');
      const y = cold('       --2--2');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x, y })))).toBe('---1--12-12-1--1');
      expectSubscriptions(x.subscriptions).toBe('-^');
      expectSubscriptions(y.subscriptions).toBe('-----^');
    });
  });

  it('unsubscribes a removed key at that frame; the other goes on', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const diffs = hot('-a---b----', { a: diff(['x', 'y']), b: diff([], ['x']) });
      const x = cold('   -1-1-1-1');
      const y = cold('   --2--2--2');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x, y })))).toBe('--121-2--2');
      expectSubscriptions(x.subscriptions).toBe('-^---!');
      expectSubscriptions(y.subscriptions).toBe('-^');
    });
  });

  it('adds and removes keys in one diff', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const diffs = hot('-a---b-----', { a: diff(['x']), b: diff(['y'], ['x']) });
      const x = cold('   -1-1-1-1');
      const y = cold('       -2-2-2');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x, y })))).toBe('--1-1-2-2-2');
      expectSubscriptions(x.subscriptions).toBe('-^---!');
      expectSubscriptions(y.subscriptions).toBe('-----^');
    });
  });

  it('does nothing when a key already open is added again', () => {
    const scheduler = testScheduler();
    const opened: string[] = [];
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const diffs = hot('-a--b----', { a: diff(['x']), b: diff(['x']) });
      const x = cold('   -1-2-3-4');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x }, opened)))).toBe('--1-2-3-4');
      expectSubscriptions(x.subscriptions).toBe('-^');
    });
    expect(opened).toEqual(['x']);
  });

  it('does nothing when an unknown key is removed', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const diffs = hot('-a--b----', { a: diff(['x']), b: diff([], ['z']) });
      const x = cold('   -1-2-3-4');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x })))).toBe('--1-2-3-4');
      expectSubscriptions(x.subscriptions).toBe('-^');
    });
  });

  it('re-opens a key removed and added in the same diff', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const diffs = hot('-a---b-----', { a: diff(['x']), b: diff(['x'], ['x']) });
      const x = cold('   -1-2-3');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x })))).toBe('--1-2-1-2-3');
      expectSubscriptions(x.subscriptions).toBe(['-^---!', '-----^']);
    });
  });

  it('forgets an inner stream that completed, and opens it again when re-added', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const diffs = hot('-a---b--', { a: diff(['x']), b: diff(['x']) });
      const x = cold('   -1|');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x })))).toBe('--1---1-');
      expectSubscriptions(x.subscriptions).toBe(['-^-!', '-----^-!']);
    });
  });

  it('errors the output on an inner error and unsubscribes the other inners', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const error = new Error('channel gone');
      const diffs = hot('-a------', { a: diff(['x', 'y']) });
      const x = cold('   --#', undefined, error);
      const y = cold('   -1-1-1');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x, y })))).toBe('--1#', undefined, error);
      expectSubscriptions(diffs.subscriptions).toBe('^--!');
      expectSubscriptions(y.subscriptions).toBe('-^-!');
    });
  });

  it('errors the output when open throws, and unsubscribes the open inners', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      // No stream for "z": the opener throws.
      const diffs = hot('-a--b---', { a: diff(['x']), b: diff(['z']) });
      const x = cold('   -1----1');
      const error = new Error('no stream for key z');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x })))).toBe('--1-#', undefined, error);
      expectSubscriptions(diffs.subscriptions).toBe('^---!');
      expectSubscriptions(x.subscriptions).toBe('-^--!');
    });
  });

  it('opens no further key of a diff once open has thrown', () => {
    const scheduler = testScheduler();
    const opened: string[] = [];
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const diffs = hot('-a---', { a: diff(['x', 'z', 'y']) });
      const x = cold('   -1');
      const y = cold('   -2');
      const error = new Error('no stream for key z');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x, y }, opened)))).toBe(
        '-#',
        undefined,
        error,
      );
      expectSubscriptions(x.subscriptions).toBe('-(^!)');
      expectSubscriptions(y.subscriptions).toBe([]);
    });
    expect(opened).toEqual(['x', 'z']);
  });

  it('unsubscribes every inner on a source error', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const error = new Error('redis gone');
      const diffs = hot('-a--#', { a: diff(['x', 'y']) }, error);
      const x = cold('   -1----');
      const y = cold('   ----2-');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x, y })))).toBe('--1-#', undefined, error);
      expectSubscriptions(x.subscriptions).toBe('-^--!');
      expectSubscriptions(y.subscriptions).toBe('-^--!');
    });
  });

  it('completes once the source and every inner have completed', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      // The source completes at 5; y, the last inner, at 8.
      const diffs = hot('-a-b-|', { a: diff(['x']), b: diff(['y']) });
      const x = cold('   --1|');
      const y = cold('     ----2|');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x, y })))).toBe('---1---2|');
      expectSubscriptions(x.subscriptions).toBe('-^--!');
      expectSubscriptions(y.subscriptions).toBe('---^----!');
    });
  });

  it('completes with the source when no inner is open', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable }) => {
      const diffs = hot('-a---|', { a: diff(['x']) });
      const x = cold('   -1|');
      expectObservable(diffs.pipe(mergeKeyed(opener({ x })))).toBe('--1--|');
    });
  });

  it('completes without opening anything for an empty source', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const diffs = cold<KeyDiff>('|');
      expectObservable(diffs.pipe(mergeKeyed(opener({})))).toBe('|');
      expectSubscriptions(diffs.subscriptions).toBe('(^!)');
    });
  });

  it('emits nothing for a source that never emits', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const diffs = hot<KeyDiff>('-');
      expectObservable(diffs.pipe(mergeKeyed(opener({})))).toBe('-');
      expectSubscriptions(diffs.subscriptions).toBe('^');
    });
  });

  it('ends every inner subscription on early unsubscribe', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const diffs = hot('-a-b------', { a: diff(['x']), b: diff(['y']) });
      const x = cold('   -1-1-1-1');
      const y = cold('     --2--2');
      const unsub = '    ^-----!';
      expectObservable(diffs.pipe(mergeKeyed(opener({ x, y }))), unsub).toBe('--1-12');
      expectSubscriptions(diffs.subscriptions).toBe('^-----!');
      expectSubscriptions(x.subscriptions).toBe('-^----!');
      expectSubscriptions(y.subscriptions).toBe('---^--!');
    });
  });
});

describe('readLatest, diffSets and mergeKeyed together', () => {
  it('re-reads the set on a refresh, opening the added key, closing the removed one', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      // startWith reads at 0 ({x, y} at 1); the refresh at 6 reads {y, z} at 7: x closes,
      // z opens, and y stays on the subscription it got at 1.
      const triggers = hot('------t-------');
      const firstRead = cold('-a|', { a: ['x', 'y'] });
      const secondRead = cold('-b|', { b: ['y', 'z'] });
      const reads = [firstRead, secondRead];
      const read = (): Observable<string[]> => {
        const next = reads.shift();
        if (next === undefined) throw new Error('one read too many');
        return next;
      };
      const x = cold('        -x---x---x');
      const y = cold('        ---y---y---y');
      const z = cold('        --z---z');
      const channels = triggers.pipe(
        startWith(undefined),
        readLatest(read),
        diffSets(),
        mergeKeyed(opener({ x, y, z })),
      );
      expectObservable(channels).toBe('--x-y-x-yz--yz');
      expectSubscriptions(firstRead.subscriptions).toBe(' ^-!');
      expectSubscriptions(secondRead.subscriptions).toBe('------^-!');
      expectSubscriptions(x.subscriptions).toBe('-^-----!');
      expectSubscriptions(y.subscriptions).toBe('-^');
      expectSubscriptions(z.subscriptions).toBe('-------^');
    });
  });
});
