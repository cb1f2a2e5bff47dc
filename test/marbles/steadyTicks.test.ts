// Marble tests for steadyTicks: ticks at exact multiples of the period, missed
// ticks reported instead of queued, and the usual ending cases.
import { Subject, Subscription, map, take } from 'rxjs';
import type { SchedulerAction, SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { steadyTicks } from '../../src/core/steadyTicks.js';
import type { Tick } from '../../src/core/steadyTicks.js';
import { testScheduler } from './testScheduler.js';

describe('steadyTicks', () => {
  it('ticks at every multiple of the period, numbered from 1', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const ticks = steadyTicks(10, scheduler).pipe(map((t) => t.index));
      expectObservable(ticks, '^ 45ms !').toBe('10ms a 9ms b 9ms c 9ms d', {
        a: 1,
        b: 2,
        c: 3,
        d: 4,
      });
    });
  });

  it('reports on-time ticks as neither late nor missed', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      expectObservable(steadyTicks(5, scheduler).pipe(take(2))).toBe('5ms a 4ms (b|)', {
        a: { index: 1, lateMs: 0, missed: 0 },
        b: { index: 2, lateMs: 0, missed: 0 },
      });
    });
  });

  it('keeps a fractional period exactly: 60 ticks in 1000 ms at 1000/60', () => {
    const scheduler = testScheduler();
    const at: number[] = [];
    scheduler.run(() => {
      steadyTicks(1000 / 60, scheduler)
        .pipe(take(60))
        .subscribe(() => at.push(scheduler.now()));
    });
    expect(at).toHaveLength(60);
    at.forEach((frame, i) => expect(frame).toBeCloseTo(((i + 1) * 1000) / 60, 6));
  });

  it('does not drift when a tick runs late, and skips the ticks it missed', () => {
    const scheduler = new BusyScheduler();
    const ticks: Tick[] = [];
    const sub = steadyTicks(10, scheduler).subscribe((t) => ticks.push(t));
    expect(scheduler.runNextAt(10)).toBe(10);
    expect(scheduler.runNextAt(25)).toBe(20); // 5 ms late
    expect(scheduler.runNextAt(57)).toBe(30); // 27 ms late: ticks 3 and 4 passed
    expect(scheduler.nextDue()).toBe(60); // still on the grid
    sub.unsubscribe();
    expect(scheduler.nextDue()).toBeUndefined();
    expect(ticks).toEqual([
      { index: 1, lateMs: 0, missed: 0 },
      { index: 2, lateMs: 5, missed: 0 },
      { index: 5, lateMs: 7, missed: 2 },
    ]);
  });

  it('keeps ticking when the clock steps back, instead of waiting out the step', () => {
    const scheduler = new BusyScheduler();
    const ticks: Tick[] = [];
    const sub = steadyTicks(10, scheduler).subscribe((t) => ticks.push(t));
    scheduler.runNextAt(10);
    // Due at 20, but the clock now reads 20 - 1000 (stepped back by a second).
    scheduler.runNextAt(20, -980);
    expect(scheduler.nextDue()).toBe(-970); // one period on, by the new clock
    scheduler.runNextAt(-970);
    sub.unsubscribe();
    expect(ticks.map((t) => [t.index, t.missed])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
  });

  it('never completes: it ticks until unsubscribed', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      expectObservable(steadyTicks(20, scheduler).pipe(map(() => 'x')), '^ 30ms !').toBe('20ms x');
    });
  });

  describe('with wake: asleep through quiet periods, on the same grid', () => {
    it('starts asleep, ticks while woken, and stops after a tick with no wake', () => {
      const scheduler = testScheduler();
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        // Wakes at 3 and 14; then nothing until 57.
        const wake = hot('   3ms w 10ms w 42ms w');
        const ticks = steadyTicks(10, scheduler, wake).pipe(map((t) => t.index));
        // Ticks at 10 and 20 (woken since the one before), 30 (not: it sleeps
        // after it), nothing at 40 or 50, then 60 for the wake at 57 and 70.
        expectObservable(ticks, '^ 99ms !').toBe('10ms a 9ms b 9ms c 29ms d 9ms e', {
          a: 1,
          b: 2,
          c: 3,
          d: 6,
          e: 7,
        });
        expectSubscriptions(wake.subscriptions).toBe('^ 99ms !');
      });
    });

    it('runs no timer at all while nothing wakes it', () => {
      const scheduler = testScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        expectObservable(steadyTicks(10, scheduler, hot('-')), '^ 200ms !').toBe('-');
      });
      const busy = new BusyScheduler();
      const sub = steadyTicks(10, busy, new Subject<void>()).subscribe();
      expect(busy.nextDue()).toBeUndefined();
      sub.unsubscribe();
    });

    it('counts ticks slept through as neither late nor missed', () => {
      const scheduler = new BusyScheduler();
      const ticks: Tick[] = [];
      const wake = new Subject<void>();
      const sub = steadyTicks(10, scheduler, wake).subscribe((t) => ticks.push(t));
      expect(scheduler.nextDue()).toBeUndefined();
      scheduler.advanceTo(42);
      wake.next();
      expect(scheduler.nextDue()).toBe(50); // on the grid from the subscription
      scheduler.runNextAt(50);
      scheduler.runNextAt(73); // woken at 42 only: this tick was late, and then sleeps
      expect(scheduler.nextDue()).toBeUndefined();
      sub.unsubscribe();
      expect(ticks).toEqual([
        { index: 5, lateMs: 0, missed: 0 },
        { index: 7, lateMs: 3, missed: 1 },
      ]);
    });

    it('ends with an error from wake, and unsubscribes its timer early', () => {
      const scheduler = testScheduler();
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const wake = hot('  w 24ms #');
        expectObservable(steadyTicks(10, scheduler, wake).pipe(map(() => 't'))).toBe(
          '10ms t 9ms t 4ms #',
        );
        expectSubscriptions(wake.subscriptions).toBe('^ 24ms !');
      });
      const busy = new BusyScheduler();
      const wake = new Subject<void>();
      const sub = steadyTicks(10, busy, wake).subscribe();
      wake.next();
      expect(busy.nextDue()).toBe(10);
      sub.unsubscribe();
      expect(busy.nextDue()).toBeUndefined();
      expect(wake.observed).toBe(false);
    });
  });

  it('refuses a period that is not positive', () => {
    expect(() => steadyTicks(0)).toThrow(/period must be > 0 ms, not 0/);
    expect(() => steadyTicks(Number.NaN)).toThrow(RangeError);
  });
});

/** A scheduler whose actions run when the test says, at or after they fall due. */
class BusyScheduler implements SchedulerLike {
  private clock = 0;
  private queue: { at: number; action: BusyAction }[] = [];

  now(): number {
    return this.clock;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T) {
    return new BusyAction(this, work).schedule(state, delay);
  }

  enqueue(action: BusyAction, delay: number): void {
    this.queue.push({ at: this.clock + delay, action });
    this.queue.sort((a, b) => a.at - b.at);
  }

  cancel(action: BusyAction): void {
    this.queue = this.queue.filter((q) => q.action !== action);
  }

  /** Moves the clock on, running nothing. */
  advanceTo(time: number): void {
    this.clock = time;
  }

  nextDue(): number | undefined {
    return this.queue[0]?.at;
  }

  /**
   * Runs the first queued action at `time`, and returns when it was due;
   * `clockReads` is what now() says then, when the clock has been stepped.
   */
  runNextAt(time: number, clockReads = time): number {
    const next = this.queue.shift();
    if (!next || time < next.at) throw new Error(`nothing due by ${time}`);
    this.clock = clockReads;
    next.action.run();
    return next.at;
  }
}

class BusyAction extends Subscription implements SchedulerAction<unknown> {
  constructor(
    private readonly scheduler: BusyScheduler,
    private readonly work: (this: SchedulerAction<unknown>) => void,
  ) {
    super(() => scheduler.cancel(this));
  }

  schedule(_state?: unknown, delay = 0): Subscription {
    this.scheduler.enqueue(this, delay);
    return this;
  }

  run(): void {
    this.work.call(this);
  }
}
