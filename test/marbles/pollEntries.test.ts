// Marble tests for pollEntries: a read after each read, at once after entries and
// idleMs after none, retryMs after a failure, and no end of its own.
// The output never ends, so every expectation unsubscribes (run mode has no frame limit).
import { defer } from 'rxjs';
import type { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { pollEntries } from '../../src/operators/pollEntries.js';
import { testScheduler } from './testScheduler.js';

/** A read that is the next of `reads` on each subscription; one subscription too many errors. */
function reads<T>(...list: Observable<T>[]): Observable<T> {
  let calls = 0;
  return defer(() => {
    const next = list[calls++];
    if (next === undefined) throw new Error(`read ${calls} of ${list.length} expected`);
    return next;
  });
}

describe('pollEntries', () => {
  it('emits nothing while a read never answers', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold<string[]>('-');
      const unsub = '              ^---------!';
      expectObservable(read.pipe(pollEntries({ retryMs: 3 }, scheduler)), unsub).toBe('-');
      expectSubscriptions(read.subscriptions).toBe('^---------!');
    });
  });

  it('reads again idleMs after a read that completes empty, not at once', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      // A store answering at once with nothing would spin without idleMs.
      const read = cold<string[]>('|');
      const out = read.pipe(pollEntries({ retryMs: 3, idleMs: 5 }, scheduler));
      expectObservable(out, '^-----------!').toBe('-');
      expectSubscriptions(read.subscriptions).toBe(['(^!)', '-----(^!)', '----------(^!)']);
    });
  });

  it('reads again at once after an empty read when idleMs is left out', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold<string[]>('--|');
      expectObservable(read.pipe(pollEntries({ retryMs: 3 }, scheduler)), '^----!').toBe('-');
      expectSubscriptions(read.subscriptions).toBe(['^-!', '--^-!', '----^!']);
    });
  });

  it('treats a read whose batches are all empty as yielding none', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      // Empty at 1, done at 2, idle until 5; an entry at 6, so the third read starts at 7.
      const first = cold(' -a|', { a: [] as string[] });
      const second = cold('-b|', { b: ['x'] });
      const third = cold<string[]>('-');
      const out = reads(first, second, third).pipe(
        pollEntries({ retryMs: 1, idleMs: 3 }, scheduler),
      );
      expectObservable(out, '^--------!').toBe('------x');
      expectSubscriptions(first.subscriptions).toBe(' ^-!');
      expectSubscriptions(second.subscriptions).toBe('-----^-!');
      expectSubscriptions(third.subscriptions).toBe(' -------^-!');
    });
  });

  it('emits one entry per read and reads again at once, however long idleMs is', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold('--a|', { a: ['x'] });
      const out = read.pipe(pollEntries({ retryMs: 3, idleMs: 10 }, scheduler));
      expectObservable(out, '^------!').toBe('--x--x-');
      expectSubscriptions(read.subscriptions).toBe(['^--!', '---^--!', '------^!']);
    });
  });

  it('flattens many batches of many entries, in order', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold('-a----b|', { a: ['w', 'x'], b: ['y'] });
      const out = read.pipe(pollEntries({ retryMs: 3 }, scheduler));
      expectObservable(out, '^---------!').toBe('-(wx)-y-(wx)-');
      expectSubscriptions(read.subscriptions).toBe(['^------!', '-------^--!']);
    });
  });

  it('reports a failed read and reads again retryMs later, never erroring', () => {
    const scheduler = testScheduler();
    const failures: unknown[] = [];
    const error = new Error('redis gone');
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold<string[]>('--#', undefined, error);
      const second = cold('        -a|', { a: ['x'] });
      const third = cold<string[]>('-');
      const options = { retryMs: 3, onError: (err: unknown) => failures.push(err) };
      const out = reads(first, second, third).pipe(pollEntries(options, scheduler));
      expectObservable(out, '^--------!').toBe('------x');
      expectSubscriptions(first.subscriptions).toBe(' ^-!');
      expectSubscriptions(second.subscriptions).toBe('-----^-!');
      expectSubscriptions(third.subscriptions).toBe(' -------^-!');
    });
    expect(failures).toEqual([error]);
  });

  it('waits retryMs after a read that failed having yielded entries', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold('-a-#', { a: ['x'] });
      const out = read.pipe(pollEntries({ retryMs: 2 }, scheduler));
      expectObservable(out, '^----------!').toBe('-x----x');
      expectSubscriptions(read.subscriptions).toBe(['^--!', '-----^--!', '----------^!']);
    });
  });

  it('keeps retrying when onError throws', () => {
    const scheduler = testScheduler();
    let reported = 0;
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold<string[]>('--#');
      const onError = (): void => {
        reported++;
        throw new Error('logger gone');
      };
      const out = read.pipe(pollEntries({ retryMs: 1, onError }, scheduler));
      expectObservable(out, '^------!').toBe('-');
      expectSubscriptions(read.subscriptions).toBe(['^-!', '---^-!', '------^!']);
    });
    expect(reported).toBe(2);
  });

  it('passes the entries of a read that never ends, reading nothing more', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold('-a-b-', { a: ['x'], b: ['y', 'z'] });
      const out = read.pipe(pollEntries({ retryMs: 1 }, scheduler));
      expectObservable(out, '^-------!').toBe('-x-(yz)');
      expectSubscriptions(read.subscriptions).toBe('^-------!');
    });
  });

  it('tears down the read in progress on early unsubscribe', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold('---a|', { a: ['x'] });
      expectObservable(read.pipe(pollEntries({ retryMs: 1 }, scheduler)), '^-!').toBe('-');
      expectSubscriptions(read.subscriptions).toBe('^-!');
    });
  });

  it('cancels a pending idle timer on early unsubscribe', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold<string[]>('-|');
      const out = read.pipe(pollEntries({ retryMs: 1, idleMs: 5 }, scheduler));
      expectObservable(out, '^--!').toBe('-');
      expectSubscriptions(read.subscriptions).toBe(['^!']);
    });
  });

  it('cancels a pending retry timer on early unsubscribe', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold<string[]>('-#');
      expectObservable(read.pipe(pollEntries({ retryMs: 5 }, scheduler)), '^--!').toBe('-');
      expectSubscriptions(read.subscriptions).toBe(['^!']);
    });
  });
});
