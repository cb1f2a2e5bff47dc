// Marble tests for rollupScores: which update lands in which window, when each
// rollup goes out, and that nothing is lost or invented on the way.
import { interval, map, take } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { rollupScores } from '../../src/operators/rollupScores.js';
import type { ScoreRollup } from '../../src/operators/rollupScores.js';
import { testScheduler } from './testScheduler.js';

type Entries = [string, number][];

/** Entries as an array, so that the assertions also pin the order of the keys. */
const entries: OperatorFunction<ScoreRollup, Entries> = map((rollup) => [...rollup]);

describe('rollupScores', () => {
  it('emits nothing for a source that never emits, window after window', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-');
      const unsub = '   ^ 100ms !';
      expectObservable(source.pipe(rollupScores(10, scheduler)), unsub).toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^ 100ms !');
    });
  });

  it('completes at once, with no rollup, for an empty source', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('|');
      expectObservable(source.pipe(rollupScores(10, scheduler))).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  it('emits one value at the end of its window', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('  --a 20ms |', { a: '1F602' });
      const expected = '    10ms x 12ms |';
      expectObservable(source.pipe(rollupScores(10, scheduler), entries)).toBe(expected, {
        x: [['1F602', 1]],
      });
      expectSubscriptions(source.subscriptions).toBe('^ 22ms !');
    });
  });

  it('counts many values per window, each rollup at the frame its window closes', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      // Windows are [0,10), [10,20), [20,30), [30,40) frames from the subscription.
      const source = hot('-a-b-a-a--- b-c-b 4ms --c-a-b-c--- -|', {
        a: '1F602',
        b: '2665',
        c: '2764',
      });
      const expected = '  10ms w 9ms x 9ms y 2ms |';
      expectObservable(source.pipe(rollupScores(10, scheduler), entries)).toBe(expected, {
        w: [
          ['1F602', 3],
          ['2665', 1],
        ],
        x: [
          ['2665', 2],
          ['2764', 1],
        ],
        y: [
          ['1F602', 1],
          ['2665', 1],
          ['2764', 2],
        ],
      });
    });
  });

  it('pins where an update exactly on a window boundary is counted', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      // Updates at frames 0, 10, 20 and 30; windows close at 10, 20, 30 and 40.
      // At equal frames the virtual clock runs actions in the order they were
      // scheduled. The hot source's messages were scheduled when the test began,
      // while each window's timer is armed later (on subscription, then when the
      // previous window closes), so an update on a boundary is counted in the
      // window that closes at its frame: windows behave as (start, end]. In real
      // time "exactly on the boundary" does not occur; what matters is that each
      // update is counted once.
      const source = hot('a 9ms b 9ms c 9ms d 15ms |', { a: 'A', b: 'B', c: 'C', d: 'D' });
      const expected = '  10ms w 9ms x 9ms y 15ms |';
      expectObservable(source.pipe(rollupScores(10, scheduler), entries)).toBe(expected, {
        w: [
          ['A', 1],
          ['B', 1],
        ],
        x: [['C', 1]],
        y: [['D', 1]],
      });
    });
  });

  it('emits nothing for idle windows', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      // Updates in the first and the sixth window; the four between stay silent.
      const source = hot('--a 50ms a 50ms |', { a: '2665' });
      const expected = '  10ms x 49ms y 43ms |';
      expectObservable(source.pipe(rollupScores(10, scheduler), entries)).toBe(expected, {
        x: [['2665', 1]],
        y: [['2665', 1]],
      });
    });
  });

  it('runs its clock only while updates come, on the grid of the subscription', () => {
    const scheduler = testScheduler();
    const ticks: number[] = [];
    scheduler.run(({ hot, expectObservable }) => {
      // Updates at 2 and 53: windows close at 10 and 60 as on an always-running
      // clock, and the clock runs one empty tick after each (20, 70), then sleeps.
      const source = hot('--a 50ms a 50ms |', { a: '2665' });
      const expected = '  10ms x 49ms y 43ms |';
      const rollups = source.pipe(
        rollupScores(10, scheduler, (tick) => ticks.push(tick.index)),
        entries,
      );
      expectObservable(rollups).toBe(expected, { x: [['2665', 1]], y: [['2665', 1]] });
    });
    expect(ticks).toEqual([1, 2, 6, 7]);
  });

  it('sorts keys in code-unit order, integer-like ids included', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('abcdefb--|', {
        a: '2665',
        b: '1F602',
        c: '0031-20E3',
        d: '26',
        e: '1F1FA-1F1F8',
        f: 'A9',
      });
      // A plain object would list "26" and "2665" first, as array indices.
      expectObservable(source.pipe(rollupScores(10, scheduler), entries)).toBe('9ms (x|)', {
        x: [
          ['0031-20E3', 1],
          ['1F1FA-1F1F8', 1],
          ['1F602', 2],
          ['26', 1],
          ['2665', 1],
          ['A9', 1],
        ],
      });
    });
  });

  it('preserves the total: the counts over all rollups add up to the updates', () => {
    const scheduler = testScheduler();
    const ids = ['1F602', '2665', '0031-20E3', '2764', '1F1FA-1F1F8', '26', '267B'];
    const received: Entries[] = [];
    scheduler.run(() => {
      // 997 updates, one per frame, over 100 windows; the last window is partial.
      interval(1, scheduler)
        .pipe(
          take(997),
          map((i) => ids[(i * i) % ids.length] as string),
          rollupScores(10, scheduler),
          entries,
        )
        .subscribe((rollup) => received.push(rollup));
    });
    const totals = new Map<string, number>();
    for (const rollup of received)
      for (const [id, count] of rollup) totals.set(id, (totals.get(id) ?? 0) + count);
    const expected = new Map<string, number>();
    for (let i = 0; i < 997; i++) {
      const id = ids[(i * i) % ids.length] as string;
      expected.set(id, (expected.get(id) ?? 0) + 1);
    }
    expect(received).toHaveLength(100);
    expect([...totals.values()].reduce((a, b) => a + b, 0)).toBe(997);
    expect(totals).toEqual(expected);
  });

  it('flushes the last partial window when the source completes', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a--b 10ms ab|', { a: '1F602', b: '2665' });
      const expected = '  10ms x 6ms (y|)';
      expectObservable(source.pipe(rollupScores(10, scheduler), entries)).toBe(expected, {
        x: [
          ['1F602', 1],
          ['2665', 1],
        ],
        y: [
          ['1F602', 1],
          ['2665', 1],
        ],
      });
    });
  });

  it('drops the buffered window and passes the error on', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a--b 10ms ab#', { a: '1F602', b: '2665' }, new Error('redis gone'));
      const expected = '  10ms x 6ms #';
      expectObservable(source.pipe(rollupScores(10, scheduler), entries)).toBe(
        expected,
        {
          x: [
            ['1F602', 1],
            ['2665', 1],
          ],
        },
        new Error('redis gone'),
      );
      expectSubscriptions(source.subscriptions).toBe('^ 16ms !');
    });
  });

  it('keeps emitting rollups while the source never ends', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('5ms a 9ms a 9ms a 9ms a 9ms a 9ms a', { a: '2665' });
      const unsub = '     ^ 57ms !';
      const expected = '  10ms x 9ms x 9ms x 9ms x 9ms x';
      expectObservable(source.pipe(rollupScores(10, scheduler), entries), unsub).toBe(expected, {
        x: [['2665', 1]],
      });
      expectSubscriptions(source.subscriptions).toBe('^ 57ms !');
    });
  });

  it('unsubscribes from the source on early unsubscribe, dropping the open window', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('--a--b--a--b--a--b--|', { a: '1F602', b: '2665' });
      const unsub = '     ^-------------!';
      const expected = '  10ms x';
      expectObservable(source.pipe(rollupScores(10, scheduler), entries), unsub).toBe(expected, {
        x: [
          ['1F602', 2],
          ['2665', 1],
        ],
      });
      expectSubscriptions(source.subscriptions).toBe('^-------------!');
    });
  });

  it('rolls up at 60 Hz by default: windows close at 16.67, 33.33 and 50 ms', () => {
    const scheduler = testScheduler();
    const emitted: [number, Entries][] = [];
    let completedAt = -1;
    scheduler.run(({ hot }) => {
      // Updates at frames 5, 20, 40 and 49; the source completes at 70.
      const source = hot('5ms a 14ms b 19ms c 8ms d 20ms |', {
        a: '1F602',
        b: '2665',
        c: '1F602',
        d: '0031-20E3',
      });
      source.pipe(rollupScores(undefined, scheduler), entries).subscribe({
        next: (rollup) => emitted.push([scheduler.now(), rollup]),
        complete: () => (completedAt = scheduler.now()),
      });
    });
    expect(emitted.map(([, rollup]) => rollup)).toEqual([
      [['1F602', 1]],
      [['2665', 1]],
      [
        ['0031-20E3', 1],
        ['1F602', 1],
      ],
    ]);
    const frames = emitted.map(([frame]) => frame);
    expect(frames[0]).toBeCloseTo(1000 / 60, 9);
    expect(frames[1]).toBeCloseTo(2000 / 60, 9);
    expect(frames[2]).toBeCloseTo(3000 / 60, 9);
    // The window closing at 66.67 was empty, so the next thing is the completion.
    expect(completedAt).toBe(70);
  });

  it('closes windows on a given clock: a late tick makes one rollup of the whole gap', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      // The clock ticks at 10, then not until 40 (a busy process), then at 50.
      const clock = hot('  10ms t 29ms t 9ms t');
      const source = hot(' -a-b- 10ms a-b-a 10ms -c- 5ms a 11ms |', {
        a: '1F602',
        b: '2665',
        c: '2764',
      });
      // Updates at 1 and 3; at 15, 17, 19, 31 and 38; none after 40.
      const expected = '   10ms x 29ms y 9ms |';
      expectObservable(source.pipe(rollupScores(clock), entries)).toBe(expected, {
        x: [
          ['1F602', 1],
          ['2665', 1],
        ],
        y: [
          ['1F602', 3],
          ['2665', 1],
          ['2764', 1],
        ],
      });
      expectSubscriptions(clock.subscriptions).toBe('^ 49ms !');
    });
  });
});
