// The score rollup: atomic score updates (one emoji id each) counted per window
// of `intervalMs` (60 Hz by default). An empty window emits nothing; ids come out
// sorted, and the counts over all rollups add up to the updates received.
import { asyncScheduler, bufferTime, filter, map, pipe } from 'rxjs';
import type { OperatorFunction, SchedulerLike } from 'rxjs';

/** Ids in code-unit order, each with how often it was seen in the window. */
export type ScoreRollup = ReadonlyMap<string, number>;

export function rollupScores(
  intervalMs: number = 1000 / 60,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<string, ScoreRollup> {
  return pipe(
    bufferTime<string>(intervalMs, scheduler),
    filter((ids) => ids.length > 0),
    map(countSorted),
  );
}

function countSorted(ids: string[]): ScoreRollup {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  // A Map keeps insertion order; a plain object would move integer-like ids ("2665") first.
  return new Map([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
