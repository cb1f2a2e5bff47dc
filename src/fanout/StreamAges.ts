// Maximum stream ages (the legacy forced refresh) on one timer. Streams of one
// age are added in deadline order, and a Set keeps insertion order, so each
// age's first entry is the next due: one timer, armed for the earliest of
// those, serves every stream however many there are.
import type { Connection } from './Connection.js';

export class StreamAges {
  private readonly byAge = new Map<number, Set<Connection>>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  /** `expire` is called for each stream that reaches its age. */
  constructor(private readonly expire: (connection: Connection) => void) {}

  track(connection: Connection, maxAgeMs: number): void {
    let set = this.byAge.get(maxAgeMs);
    if (!set) this.byAge.set(maxAgeMs, (set = new Set()));
    set.add(connection);
    this.arm(connection.info.createdAt + maxAgeMs);
  }

  forget(connection: Connection): void {
    for (const set of this.byAge.values()) if (set.delete(connection)) return;
  }

  clear(): void {
    clearTimeout(this.timer);
    this.byAge.clear();
  }

  private arm(at: number): void {
    if (at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.run(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private run(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const [maxAgeMs, set] of this.byAge) {
      for (const c of set) {
        const due = c.info.createdAt + maxAgeMs;
        if (due > now) {
          next = Math.min(next, due);
          break;
        }
        set.delete(c);
        this.expire(c);
      }
      if (set.size === 0) this.byAge.delete(maxAgeMs);
    }
    if (next !== Infinity) this.arm(next);
  }
}
