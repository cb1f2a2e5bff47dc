// Marble tests for readLatest: a read per trigger, never two at once, triggers during a
// read coalescing into exactly one more read, and completion waiting for that read.
import { of } from 'rxjs';
import type { Observable } from 'rxjs';
import { describe, it } from 'vitest';
import { readLatest } from '../../src/operators/readLatest.js';
import { testScheduler } from './testScheduler.js';

/** A read callback returning the next of `reads` on each call; one call too many errors. */
function sequence<T>(...reads: Observable<T>[]): () => Observable<T> {
  let calls = 0;
  return () => {
    const next = reads[calls++];
    if (next === undefined) throw new Error(`read ${calls} of ${reads.length} expected`);
    return next;
  };
}

describe('readLatest', () => {
  it('runs one read for one trigger and emits its values', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const triggers = hot('-t-------|');
      const read = cold('  -a-b|');
      expectObservable(triggers.pipe(readLatest(sequence(read)))).toBe('--a-b----|');
      expectSubscriptions(read.subscriptions).toBe('-^---!');
    });
  });

  it('runs a read for each trigger that arrives after the previous read', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const triggers = hot('-t----t----|');
      const first = cold(' --a|');
      const second = cold('--b|');
      expectObservable(triggers.pipe(readLatest(sequence(first, second)))).toBe('---a----b--|');
      expectSubscriptions(first.subscriptions).toBe(' -^--!');
      expectSubscriptions(second.subscriptions).toBe('------^--!');
    });
  });

  it('queues one more read for a trigger during a read, started as the read completes', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      // The read started at 1 completes at 5; the trigger at 2 reads again from 5 to 9.
      const triggers = hot('-tt-------|');
      const first = cold(' ---a|');
      const second = cold('---b|');
      expectObservable(triggers.pipe(readLatest(sequence(first, second)))).toBe('----a---b-|');
      expectSubscriptions(first.subscriptions).toBe(' -^---!');
      expectSubscriptions(second.subscriptions).toBe('-----^---!');
    });
  });

  it('coalesces several triggers during a read into one more read', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      // Three triggers during the first read, one read for them; a fourth read would
      // make `sequence` throw and so error the output.
      const triggers = hot('-tttt------|');
      const first = cold(' ---a|');
      const second = cold('---b|');
      expectObservable(triggers.pipe(readLatest(sequence(first, second)))).toBe('----a---b--|');
      expectSubscriptions(first.subscriptions).toBe(' -^---!');
      expectSubscriptions(second.subscriptions).toBe('-----^---!');
    });
  });

  it('keeps coalescing while the queued read runs', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      // 2 and 3 fall in the first read (1-5), 7 and 8 in the second (5-9): a third at 9.
      const triggers = hot('-ttt---tt--------|');
      const first = cold(' ---a|');
      const second = cold('---b|');
      const third = cold(' ---c|');
      const expected = '   ----a---b---c----|';
      expectObservable(triggers.pipe(readLatest(sequence(first, second, third)))).toBe(expected);
      expectSubscriptions(first.subscriptions).toBe(' -^---!');
      expectSubscriptions(second.subscriptions).toBe('-----^---!');
      expectSubscriptions(third.subscriptions).toBe(' ---------^---!');
    });
  });

  it('completes after the read in progress when the triggers complete during it', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const triggers = hot('-t|');
      const read = cold('  ---a|');
      expectObservable(triggers.pipe(readLatest(sequence(read)))).toBe('----a|');
      expectSubscriptions(read.subscriptions).toBe('-^---!');
    });
  });

  it('still runs the queued read after the triggers complete, then completes', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const triggers = hot('-tt|');
      const first = cold(' ---a|');
      const second = cold('---b|');
      expectObservable(triggers.pipe(readLatest(sequence(first, second)))).toBe('----a---b|');
      expectSubscriptions(first.subscriptions).toBe(' -^---!');
      expectSubscriptions(second.subscriptions).toBe('-----^---!');
    });
  });

  it('reads again on each trigger when the read is synchronous', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const triggers = hot('-t-t-|');
      expectObservable(triggers.pipe(readLatest(() => of('x')))).toBe('-x-x-|');
    });
  });

  it('errors the output when a read errors, and leaves the triggers', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const error = new Error('redis gone');
      const triggers = hot('-t---t--|');
      const read = cold('  --#', undefined, error);
      expectObservable(triggers.pipe(readLatest(sequence(read)))).toBe('---#', undefined, error);
      expectSubscriptions(triggers.subscriptions).toBe('^--!');
      expectSubscriptions(read.subscriptions).toBe('-^-!');
    });
  });

  it('errors the output when the triggers error, cancelling the read in progress', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const error = new Error('refreshes gone');
      const triggers = hot('-t-#', undefined, error);
      const read = cold('  ----a|');
      expectObservable(triggers.pipe(readLatest(sequence(read)))).toBe('---#', undefined, error);
      expectSubscriptions(read.subscriptions).toBe('-^-!');
    });
  });

  it('completes without a read for empty triggers', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const triggers = cold('|');
      const read = cold('--a|');
      expectObservable(triggers.pipe(readLatest(() => read))).toBe('|');
      expectSubscriptions(triggers.subscriptions).toBe('(^!)');
      expectSubscriptions(read.subscriptions).toBe([]);
    });
  });

  it('emits nothing and reads nothing while the triggers never emit', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const triggers = hot('-');
      const read = cold('--a|');
      expectObservable(triggers.pipe(readLatest(() => read))).toBe('-');
      expectSubscriptions(triggers.subscriptions).toBe('^');
      expectSubscriptions(read.subscriptions).toBe([]);
    });
  });

  it('cancels the read in progress on early unsubscribe', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const triggers = hot('-t-------|');
      const read = cold('  -a-b-c-|');
      const unsub = '      ^----!';
      expectObservable(triggers.pipe(readLatest(sequence(read))), unsub).toBe('--a-b');
      expectSubscriptions(triggers.subscriptions).toBe('^----!');
      expectSubscriptions(read.subscriptions).toBe('-^---!');
    });
  });

  it('errors the output when the read callback throws', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const error = new Error('no client');
      const triggers = hot('-t-t-|');
      const read = (): Observable<string> => {
        throw error;
      };
      expectObservable(triggers.pipe(readLatest(read))).toBe('-#', undefined, error);
      expectSubscriptions(triggers.subscriptions).toBe('^!');
    });
  });
});
