// Which channels a source's connection has confirmed (a Redis SUBSCRIBE, a
// Postgres LISTEN), and who waits for one: what `live(name)` answers, so an
// acknowledgement sent after it is never followed by a lost message.
import { EMPTY, Subject, defer, finalize, of, take } from 'rxjs';
import type { Observable } from 'rxjs';

export class LiveChannels {
  private readonly live = new Set<string>();
  /** One Subject per channel someone waits on: emits once when the channel becomes live. */
  private readonly waiters = new Map<string, Subject<void>>();
  private ended = false;

  /** Channels someone waits on (0 when nothing is being opened). */
  get waiting(): number {
    return this.waiters.size;
  }

  has(name: string): boolean {
    return this.live.has(name);
  }

  /** Emits once, and completes, when the channel is live: at once when it is; never after end(). */
  whenLive(name: string): Observable<void> {
    return defer(() => {
      if (this.live.has(name)) return of(undefined);
      if (this.ended) return EMPTY;
      let waiter = this.waiters.get(name);
      if (!waiter) this.waiters.set(name, (waiter = new Subject<void>()));
      const current = waiter;
      // A waiter nobody waits on any more is dropped, so the map holds only channels being opened.
      return current.pipe(
        take(1),
        finalize(() => {
          if (!current.observed && this.waiters.get(name) === current) this.waiters.delete(name);
        }),
      );
    });
  }

  /** The connection confirmed the channel: its waiters are told. */
  markLive(name: string): void {
    this.live.add(name);
    const waiter = this.waiters.get(name);
    if (!waiter) return;
    this.waiters.delete(name);
    waiter.next();
    waiter.complete();
  }

  /** The channel is no longer subscribed. */
  forget(name: string): void {
    this.live.delete(name);
  }

  /** The connection is gone: nothing is live; waiters go on waiting for the next one. */
  clear(): void {
    this.live.clear();
  }

  /** The source is closed: waiters complete without the channel becoming live. */
  end(): void {
    this.ended = true;
    this.live.clear();
    const waiters = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of waiters) w.complete();
  }
}
