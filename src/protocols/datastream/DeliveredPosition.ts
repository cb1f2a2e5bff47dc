// How far this instance's site streams are: the highest queue entry id it has
// handed to the hub (or its consumer group had, in an earlier run). A
// recovering client's history read stops there (what comes after reaches it
// through the hub), and a client that got further on another instance waits,
// briefly, for this one to catch up.
import type { SchedulerLike } from 'rxjs';
import { compareEntryIds } from '../../sources/SiteHistory.js';

interface Waiter {
  readonly id: string;
  readonly done: (reached: boolean) => void;
}

export class DeliveredPosition {
  private top: string | undefined;
  private waiters: Set<Waiter> | undefined;

  /** The highest id delivered; undefined until one was. */
  get last(): string | undefined {
    return this.top;
  }

  /** Whether `id`, or an entry after it, was delivered. */
  has(id: string): boolean {
    const last = this.last;
    return last !== undefined && compareEntryIds(last, id) >= 0;
  }

  /**
   * An entry was handed to the hub, or the group had read up to it in an
   * earlier run (a redelivered older one leaves the position where it is).
   */
  record(id: string): void {
    const last = this.last;
    if (last !== undefined && compareEntryIds(id, last) <= 0) return;
    this.top = id;
    if (!this.waiters) return;
    for (const w of this.waiters) if (compareEntryIds(w.id, id) <= 0) this.settle(w, true);
  }

  /** Resolves true once `id` was delivered, false when it was not within `withinMs`. */
  reached(id: string, withinMs: number, scheduler: SchedulerLike): Promise<boolean> {
    if (this.has(id)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        id,
        // Called later than this function: by record(), or by the timeout itself.
        done: (reached) => {
          timeout.unsubscribe();
          resolve(reached);
        },
      };
      (this.waiters ??= new Set()).add(waiter);
      const timeout = scheduler.schedule(() => this.settle(waiter, false), withinMs);
    });
  }

  private settle(w: Waiter, reached: boolean): void {
    if (!this.waiters?.delete(w)) return;
    if (this.waiters.size === 0) this.waiters = undefined;
    w.done(reached);
  }
}
