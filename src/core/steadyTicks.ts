// A clock that keeps its rate: tick k falls due at start + k·period, however
// late the previous one ran, so a 1000/60 ms clock ticks 60 times a second
// (setInterval rounds each period to whole milliseconds and drifts). When the
// process is so busy that whole periods pass, the ticks due in between are not
// queued to run back to back: the next tick says how many it stands for.
//
// Given `wake`, the clock sleeps through quiet periods: it starts asleep, and
// after a tick with no `wake` value since the one before, it stops. The next
// `wake` value arms it for the next tick on the same grid. An idle server then
// does not wake sixty times a second for windows it knows are empty.
import { Observable, asyncScheduler } from 'rxjs';
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';

export interface Tick {
  /** The tick's number since the clock started, from 1 (missed and slept ticks counted). */
  readonly index: number;
  /** How long after it fell due it ran, in ms (0 when the clock ran ahead). */
  readonly lateMs: number;
  /** Ticks that fell due while the process was busy and were skipped (not those slept through). */
  readonly missed: number;
}

export function steadyTicks(
  periodMs: number,
  scheduler: SchedulerLike = asyncScheduler,
  wake?: Observable<unknown>,
): Observable<Tick> {
  if (!(periodMs > 0))
    throw new RangeError(`steadyTicks: the period must be > 0 ms, not ${periodMs}`);
  return new Observable<Tick>((subscriber) => {
    let start = scheduler.now();
    /** The last tick run, or slept through. */
    let index = 0;
    let armed: Subscription | undefined;
    let woken = false;
    const tick = function (this: SchedulerAction<undefined>) {
      const now = scheduler.now();
      const due = start + (index + 1) * periodMs;
      const missed = Math.max(0, Math.floor((now - due) / periodMs));
      index += 1 + missed;
      subscriber.next({ index, lateMs: Math.max(0, now - (start + index * periodMs)), missed });
      if (wake && !woken) {
        armed = undefined;
        return;
      }
      woken = false;
      let delay = start + (index + 1) * periodMs - scheduler.now();
      // The wall clock stepped back (an NTP step, a resumed VM): keep ticking
      // from now rather than wait out the step.
      if (delay > 2 * periodMs) {
        start = scheduler.now() - index * periodMs;
        delay = periodMs;
      }
      this.schedule(undefined, Math.max(0, delay));
    };
    if (!wake) return scheduler.schedule(tick, periodMs);
    const wakes = wake.subscribe({
      next: () => {
        woken = true;
        if (armed) return;
        // Asleep: the ticks since the last one were slept through, not missed.
        const now = scheduler.now();
        index = Math.max(index, Math.floor((now - start) / periodMs));
        const delay = start + (index + 1) * periodMs - now;
        armed = scheduler.schedule(tick, Math.max(0, Math.min(delay, periodMs)));
        // A clock stepped back: the grid starts again from now.
        if (delay > periodMs) start = now - index * periodMs;
      },
      error: (err: unknown) => subscriber.error(err),
    });
    return () => {
      wakes.unsubscribe();
      armed?.unsubscribe();
    };
  });
}
