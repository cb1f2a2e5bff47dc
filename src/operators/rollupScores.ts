// The score rollup: atomic score updates (one emoji id each) counted per window
// of `intervalMs` (60 Hz by default), on a clock that keeps its rate (see
// steadyTicks). An empty window emits nothing; ids come out sorted, and the
// counts over all rollups add up to the updates received. The clock sleeps
// while no update comes (see steadyTicks' `wake`): windows stay on the grid
// that started at the subscription, and a quiet feed costs no timer at all.
import { asyncScheduler, buffer, connect, filter, map, pipe, tap } from 'rxjs';
import type { Observable, OperatorFunction, SchedulerLike } from 'rxjs';
import { steadyTicks } from '../core/steadyTicks.js';
import type { Tick } from '../core/steadyTicks.js';

/** Ids in code-unit order, each with how often it was seen in the window. */
export type ScoreRollup = ReadonlyMap<string, number>;

/**
 * `every` is the window length in ms, or the clock itself: an Observable whose
 * every value closes a window. `onTick` is told of each tick the clock runs
 * (how late, how many it missed), for its metrics.
 */
export function rollupScores(
  every: number | Observable<unknown> = 1000 / 60,
  scheduler: SchedulerLike = asyncScheduler,
  onTick?: (tick: Tick) => void,
): OperatorFunction<string, ScoreRollup> {
  const rollups = (windowEnds: Observable<unknown>) =>
    pipe(
      buffer<string>(windowEnds),
      filter((ids) => ids.length > 0),
      map(countSorted),
    );
  if (typeof every !== 'number') return rollups(every);
  return connect((updates) => {
    const ticks = steadyTicks(every, scheduler, updates);
    return updates.pipe(rollups(onTick ? ticks.pipe(tap(onTick)) : ticks));
  });
}

function countSorted(ids: string[]): ScoreRollup {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  // A Map keeps insertion order; a plain object would move integer-like ids ("2665") first.
  return new Map([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
