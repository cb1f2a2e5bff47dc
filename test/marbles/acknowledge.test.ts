// Marble tests for acknowledge: batches closed by size or by a window from their first
// item, acknowledged one at a time in order, failures reported and the end held for the last.
import { of, take } from 'rxjs';
import type { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { acknowledge } from '../../src/operators/acknowledge.js';
import type { AckResult } from '../../src/operators/acknowledge.js';
import { testScheduler } from './testScheduler.js';

/** An ack that answers each batch with the next of `results` and records the batches. */
function acks(...results: Observable<unknown>[]): {
  ack: (batch: readonly string[]) => Observable<unknown>;
  batches: (readonly string[])[];
} {
  const batches: (readonly string[])[] = [];
  const ack = (batch: readonly string[]): Observable<unknown> => {
    batches.push(batch);
    const next = results[batches.length - 1];
    if (next === undefined) throw new Error(`ack ${batches.length} of ${results.length} expected`);
    return next;
  };
  return { ack, batches };
}

/** An ack that succeeds at once, for tests about the batches rather than the acks. */
const instant = (): Observable<boolean> => of(true);

const done = (...items: string[]): AckResult<string> => ({ items });

describe('acknowledge', () => {
  it('emits nothing and acknowledges nothing while no item comes', () => {
    const scheduler = testScheduler();
    const { ack, batches } = acks();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const items = hot<string>('-');
      const out = items.pipe(acknowledge(ack, { maxBatch: 2, windowMs: 3 }, scheduler));
      expectObservable(out).toBe('-');
      expectSubscriptions(items.subscriptions).toBe('^');
    });
    expect(batches).toEqual([]);
  });

  it('completes at once for no items', () => {
    const scheduler = testScheduler();
    const { ack, batches } = acks();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const items = cold<string>('|');
      const out = items.pipe(acknowledge(ack, { maxBatch: 2, windowMs: 3 }, scheduler));
      expectObservable(out).toBe('|');
      expectSubscriptions(items.subscriptions).toBe('(^!)');
    });
    expect(batches).toEqual([]);
  });

  it('acknowledges one item windowMs after it and reports when the ack answers', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const result = cold('--k|');
      const { ack } = acks(result);
      const items = hot('-a-------|');
      const out = items.pipe(acknowledge(ack, { maxBatch: 10, windowMs: 3 }, scheduler));
      expectObservable(out).toBe('------x--|', { x: done('a') });
      // The first value is the answer: the rest of the ack is not waited for.
      expectSubscriptions(result.subscriptions).toBe('----^-!');
    });
  });

  it('times each window from its first item', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const items = hot('-ab----c-----|');
      const out = items.pipe(acknowledge(instant, { maxBatch: 10, windowMs: 3 }, scheduler));
      expectObservable(out).toBe('----x-----y--|', { x: done('a', 'b'), y: done('c') });
    });
  });

  it('closes a full batch at once, and its window with it', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      // [c, d] fills at 5, before its window (3 + 5) ends; e's window then runs 7 to 12.
      const items = hot('-abc-d-e------|');
      const expected = '--x--y------z-|';
      const out = items.pipe(acknowledge(instant, { maxBatch: 2, windowMs: 5 }, scheduler));
      expectObservable(out).toBe(expected, { x: done('a', 'b'), y: done('c', 'd'), z: done('e') });
    });
  });

  it('with windowMs 0 puts the items of one synchronous burst in one batch', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const items = hot('-(ab)-c-|');
      const out = items.pipe(acknowledge(instant, { maxBatch: 10, windowMs: 0 }, scheduler));
      expectObservable(out).toBe('-x----y-|', { x: done('a', 'b'), y: done('c') });
    });
  });

  it('runs one ack at a time, a batch closed meanwhile waiting its turn', () => {
    const scheduler = testScheduler();
    let batches: (readonly string[])[] = [];
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const first = cold(' ---k|');
      const second = cold('-k|');
      const recorded = acks(first, second);
      batches = recorded.batches;
      const items = hot('-ab--------|');
      const out = items.pipe(acknowledge(recorded.ack, { maxBatch: 1, windowMs: 10 }, scheduler));
      expectObservable(out).toBe('----xy-----|', { x: done('a'), y: done('b') });
      expectSubscriptions(first.subscriptions).toBe(' -^--!');
      expectSubscriptions(second.subscriptions).toBe('----^!');
    });
    expect(batches).toEqual([['a'], ['b']]);
  });

  it('counts an ack that completes without a value as done', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable }) => {
      const { ack } = acks(cold('--|'));
      const items = hot('-a---|');
      const out = items.pipe(acknowledge(ack, { maxBatch: 1, windowMs: 10 }, scheduler));
      expectObservable(out).toBe('---x-|', { x: done('a') });
    });
  });

  it('reports a failed ack with its error and goes on', () => {
    const scheduler = testScheduler();
    const error = new Error('redis gone');
    scheduler.run(({ hot, cold, expectObservable }) => {
      const { ack } = acks(cold('-#', undefined, error), cold('-k|'));
      const items = hot('-a--b----|');
      const out = items.pipe(acknowledge(ack, { maxBatch: 1, windowMs: 10 }, scheduler));
      expectObservable(out).toBe('--x--y---|', { x: { items: ['a'], error }, y: done('b') });
    });
  });

  it('reports an ack that throws with its error and goes on', () => {
    const scheduler = testScheduler();
    const error = new Error('no client');
    const ack = (batch: readonly string[]): Observable<boolean> => {
      if (batch[0] === 'a') throw error;
      return of(true);
    };
    scheduler.run(({ hot, expectObservable }) => {
      const items = hot('-a-b-|');
      const out = items.pipe(acknowledge(ack, { maxBatch: 1, windowMs: 10 }, scheduler));
      expectObservable(out).toBe('-x-y-|', { x: { items: ['a'], error }, y: done('b') });
    });
  });

  it('on completion closes the open batch at once and completes after its ack', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const result = cold('--k|');
      const { ack } = acks(result);
      const items = hot('-a-|');
      const out = items.pipe(acknowledge(ack, { maxBatch: 10, windowMs: 10 }, scheduler));
      expectObservable(out).toBe('-----(x|)', { x: done('a') });
      expectSubscriptions(result.subscriptions).toBe('---^-!');
    });
  });

  it('on completion still runs the batches waiting behind the ack in flight', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable }) => {
      const { ack } = acks(cold('--k|'), cold('--k|'));
      const items = hot('-ab-|');
      const out = items.pipe(acknowledge(ack, { maxBatch: 1, windowMs: 10 }, scheduler));
      expectObservable(out).toBe('---x-(y|)', { x: done('a'), y: done('b') });
    });
  });

  it('on a source error acknowledges the open batch, then forwards the error', () => {
    const scheduler = testScheduler();
    const error = new Error('stream gone');
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const result = cold('--k|');
      const { ack } = acks(result);
      const items = hot('-a-#', undefined, error);
      const out = items.pipe(acknowledge(ack, { maxBatch: 10, windowMs: 10 }, scheduler));
      expectObservable(out).toBe('-----(x#)', { x: done('a') }, error);
      expectSubscriptions(result.subscriptions).toBe('---^-!');
    });
  });

  it('forwards a source error at once when nothing is left to acknowledge', () => {
    const scheduler = testScheduler();
    const error = new Error('stream gone');
    scheduler.run(({ hot, expectObservable }) => {
      const items = hot<string>('--#', undefined, error);
      const out = items.pipe(acknowledge(instant, { maxBatch: 10, windowMs: 10 }, scheduler));
      expectObservable(out).toBe('--#', undefined, error);
    });
  });

  it('keeps acknowledging items that never end', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const items = hot('-a--b--');
      const out = items.pipe(acknowledge(instant, { maxBatch: 10, windowMs: 2 }, scheduler));
      expectObservable(out).toBe('---x--y', { x: done('a'), y: done('b') });
      expectSubscriptions(items.subscriptions).toBe('^');
    });
  });

  it('drops the open batch and its window on early unsubscribe', () => {
    const scheduler = testScheduler();
    const { ack, batches } = acks();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const items = hot('-a-b----|');
      const unsub = '    ^----!';
      const out = items.pipe(acknowledge(ack, { maxBatch: 10, windowMs: 10 }, scheduler));
      expectObservable(out, unsub).toBe('-');
      expectSubscriptions(items.subscriptions).toBe('^----!');
    });
    // The queue redelivers what was never acknowledged.
    expect(batches).toEqual([]);
  });

  it('cancels the ack in flight on early unsubscribe', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const result = cold('----k|');
      const { ack } = acks(result);
      const items = hot('-a------|');
      const out = items.pipe(acknowledge(ack, { maxBatch: 1, windowMs: 10 }, scheduler));
      expectObservable(out, '^--!').toBe('-');
      expectSubscriptions(result.subscriptions).toBe('-^-!');
    });
  });

  it('cancels the ack in flight that a synchronous ack started on early unsubscribe', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      // a's ack answers at 3; b's answers at once and starts c's, which is in flight at 5.
      const third = cold('----k|');
      const { ack } = acks(cold('--k|'), of(true), third);
      const items = hot('-abc----|');
      const out = items.pipe(acknowledge(ack, { maxBatch: 1, windowMs: 10 }, scheduler));
      expectObservable(out, '^----!').toBe('---(xy)', { x: done('a'), y: done('b') });
      expectSubscriptions(third.subscriptions).toBe('---^-!');
    });
  });

  it('starts no further ack once the subscriber leaves on a result', () => {
    const scheduler = testScheduler();
    let batches: (readonly string[])[] = [];
    scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const result = cold('--k|');
      const recorded = acks(result, cold('--k|'), cold('--k|'));
      batches = recorded.batches;
      const items = hot('-abc----|');
      const out = items.pipe(acknowledge(recorded.ack, { maxBatch: 1, windowMs: 10 }, scheduler));
      expectObservable(out.pipe(take(1))).toBe('---(x|)', { x: done('a') });
      expectSubscriptions(result.subscriptions).toBe('-^-!');
    });
    expect(batches).toEqual([['a']]);
  });
});
