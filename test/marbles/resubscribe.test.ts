// Marble tests for resubscribe: the source subscribed again `delayMs` after it
// errors or completes, for ever, each end told to onError/onComplete; `stopped`
// ends the output instead; values pass through untouched.
import { Observable, asyncScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { resubscribe } from '../../src/operators/resubscribe.js';
import { testScheduler } from './testScheduler.js';

describe('resubscribe', () => {
  it('passes values through, and subscribes again delayMs after an error', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-#');
      const errors: unknown[] = [];
      const out = source.pipe(
        resubscribe({ delayMs: 2, onError: (e) => errors.push(e) }, scheduler),
      );
      expectObservable(out, '^ 12ms !').toBe('-a----a----a-');
      expectSubscriptions(source.subscriptions).toBe(['^--!', '-----^--!', '----------^--!']);
      scheduler.flush();
      expect(errors).toEqual(['error', 'error']);
    });
  });

  it('subscribes again delayMs after a completion, telling onComplete each time', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('ab|');
      let completions = 0;
      const out = source.pipe(
        resubscribe({ delayMs: 3, onComplete: () => completions++ }, scheduler),
      );
      // The third subscription would be at 10: unsubscribed at 9, it never is.
      expectObservable(out, '^ 8ms !').toBe('ab---ab--');
      expectSubscriptions(source.subscriptions).toBe(['^-!', '-----^-!']);
      scheduler.flush();
      expect(completions).toBe(2);
    });
  });

  it('completes instead of subscribing again once stopped says so', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a|');
      let ends = 0;
      const out = source.pipe(
        resubscribe({ delayMs: 1, onComplete: () => ends++, stopped: () => ends >= 2 }, scheduler),
      );
      expectObservable(out).toBe('-a--a|');
      expectSubscriptions(source.subscriptions).toBe(['^-!', '---^-!']);
    });
  });

  it('with delayMs 0, subscribes again at once, even when the source ends as it is subscribed', () => {
    let subscriptions = 0;
    const source = new Observable<number>((subscriber) => {
      subscriptions++;
      subscriber.next(subscriptions);
      if (subscriptions < 100_000) subscriber.error(new Error('again'));
    });
    const seen: number[] = [];
    const sub = source
      .pipe(resubscribe({ delayMs: 0 }, asyncScheduler))
      .subscribe((n) => seen.push(n));
    // A hundred thousand synchronous ends run as a loop: nested calls would overflow the stack.
    expect(seen.length).toBe(100_000);
    expect(sub.closed).toBe(false);
    sub.unsubscribe();
  });

  it('emits nothing for a source that ends at once, until unsubscribed', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('|');
      expectObservable(source.pipe(resubscribe({ delayMs: 2 }, scheduler)), '^ 6ms !').toBe(
        '--------',
      );
      expectSubscriptions(source.subscriptions).toBe(['(^!)', '--(^!)', '----(^!)', '------(^!)']);
    });
  });

  it('unsubscribed during its delay, never subscribes again', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a#');
      expectObservable(source.pipe(resubscribe({ delayMs: 5 }, scheduler)), '^ 3ms !').toBe('a');
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
  });

  it('unsubscribed early, unsubscribes the source', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d');
      expectObservable(source.pipe(resubscribe({ delayMs: 5 }, scheduler)), '^--!').toBe('a-b');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
});
