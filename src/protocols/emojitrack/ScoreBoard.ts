// Running totals per emoji id, folded from the score rollups this process has
// seen since it started: the fallback behind the /api/scores snapshot.
import type { Observable, Subscription } from 'rxjs';
import { silentLogger } from '../../core/logger.js';
import type { Logger } from '../../core/logger.js';
import type { ScoreRollup } from '../../operators/rollupScores.js';

export interface Score {
  readonly id: string;
  readonly score: number;
}

export class ScoreBoard {
  private readonly totals = new Map<string, number>();
  private readonly subscription: Subscription;
  private updates = 0;

  constructor(rollups$: Observable<ScoreRollup>, logger: Logger = silentLogger) {
    const log = logger.child({ component: 'score-board' });
    this.subscription = rollups$.subscribe({
      next: (rollup) => this.add(rollup),
      // The totals so far stay valid; only further counting stops.
      error: (err: unknown) => log.error('score rollups failed', { error: String(err) }),
    });
  }

  /** Score updates counted so far (the sum of all totals). */
  get total(): number {
    return this.updates;
  }

  /** Ids seen so far. */
  get size(): number {
    return this.totals.size;
  }

  /** Highest score first; equal scores in id order, so the ranking is stable. */
  ranking(limit = Infinity): Score[] {
    const out: Score[] = [];
    for (const [id, score] of this.totals) out.push({ id, score });
    out.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return limit < out.length ? out.slice(0, limit) : out;
  }

  close(): void {
    this.subscription.unsubscribe();
  }

  private add(rollup: ScoreRollup): void {
    for (const [id, count] of rollup) {
      this.totals.set(id, (this.totals.get(id) ?? 0) + count);
      this.updates += count;
    }
  }
}
