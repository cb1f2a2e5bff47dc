// A clock that keeps its rate: tick k falls due at start + k·period, however
// late the previous one ran, so a 1000/60 ms clock ticks 60 times a second
// (setInterval rounds each period to whole milliseconds and drifts). When the
// process is so busy that whole periods pass, the ticks due in between are not
// queued to run back to back: the next tick says how many it stands for.
import { Observable, asyncScheduler } from 'rxjs';
import type { SchedulerAction, SchedulerLike } from 'rxjs';

export interface Tick {
  /** The tick's number since the clock started, from 1 (missed ticks counted). */
  readonly index: number;
  /** How long after it fell due it ran, in ms (0 when the clock ran ahead). */
  readonly lateMs: number;
  /** Ticks that fell due while the process was busy and were skipped. */
  readonly missed: number;
}

export function steadyTicks(
  periodMs: number,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<Tick> {
  if (!(periodMs > 0))
    throw new RangeError(`steadyTicks: the period must be > 0 ms, not ${periodMs}`);
  return new Observable<Tick>((subscriber) => {
    let start = scheduler.now();
    let index = 0;
    return scheduler.schedule(function (this: SchedulerAction<undefined>) {
      const now = scheduler.now();
      const due = start + (index + 1) * periodMs;
      const missed = Math.max(0, Math.floor((now - due) / periodMs));
      index += 1 + missed;
      subscriber.next({ index, lateMs: Math.max(0, now - (start + index * periodMs)), missed });
      let delay = start + (index + 1) * periodMs - scheduler.now();
      // The wall clock stepped back (an NTP step, a resumed VM): keep ticking
      // from now rather than wait out the step.
      if (delay > 2 * periodMs) {
        start = scheduler.now() - index * periodMs;
        delay = periodMs;
      }
      this.schedule(undefined, Math.max(0, delay));
    }, periodMs);
  });
}
