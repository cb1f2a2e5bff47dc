// GET /api/scores: the ranking a page starts from before /subscribe/eps keeps it
// current. Read from the Redis sorted set `emojitrack_score` when there is one,
// else from the totals of the score rollups this process has counted.
import { Router } from 'express';
import type { Request, Response } from 'express';
import { EMPTY } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import { StreamerError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import type { Logger } from '../../core/logger.js';
import type { PubSubSource } from '../../core/message.js';
import type { ScoreRollup } from '../../operators/rollupScores.js';
import { scoreRollups } from './feeds.js';
import { ScoreBoard } from './ScoreBoard.js';
import type { Score } from './ScoreBoard.js';

export const SCORE_KEY = 'emojitrack_score';
const MAX_LIMIT = 10_000;

/** The one Redis command the snapshot needs; an ioredis client satisfies it. */
export interface ScoreStore {
  zrevrange(key: string, start: number, stop: number, withScores: 'WITHSCORES'): Promise<string[]>;
}

export interface ScoresApiOptions {
  readonly source: PubSubSource;
  readonly epsIntervalMs: number;
  /** A Redis command connection; without one the rollup totals are the only source. */
  readonly store?: ScoreStore | undefined;
  /**
   * Count every score update from the start, whether or not anyone watches
   * /subscribe/eps. Costs one standing subscription to the score channel, so
   * it is off unless asked for (the service turns it on).
   */
  readonly keepScores?: boolean | undefined;
  /** The rollups to count, shared with /subscribe/eps; by default its own. */
  readonly rollups?: Observable<ScoreRollup> | undefined;
  readonly logger?: Logger;
  readonly scheduler?: SchedulerLike;
}

export interface ScoresApi {
  readonly router: Router;
  readonly board: ScoreBoard;
  close(): void;
}

export function scoresApi(options: ScoresApiOptions): ScoresApi {
  const { source, store } = options;
  const log = (options.logger ?? silentLogger).child({ component: 'scores-api' });
  const board = new ScoreBoard(
    options.keepScores
      ? (options.rollups ?? scoreRollups(source, options.epsIntervalMs, options.scheduler))
      : EMPTY,
    options.logger,
  );

  const fromStore = async (limit: number): Promise<Score[] | undefined> => {
    if (!store) return undefined;
    try {
      const flat = await store.zrevrange(
        SCORE_KEY,
        0,
        Number.isFinite(limit) ? limit - 1 : -1,
        'WITHSCORES',
      );
      if (flat.length === 0) return undefined;
      const out: Score[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        out.push({ id: flat[i] as string, score: Number(flat[i + 1]) });
      }
      return out;
    } catch (err) {
      // A snapshot from this process's own totals beats no page at all.
      log.warn('reading the score set failed; answering from the rollups', {
        key: SCORE_KEY,
        error: (err as Error).message,
      });
      return undefined;
    }
  };

  const router = Router();
  router.get('/api/scores', async (req: Request, res: Response) => {
    const limit = parseLimit(req.query.limit);
    const stored = await fromStore(limit);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Scores-Source', stored ? 'redis' : 'rollups');
    res.json(stored ?? board.ranking(limit));
  });
  return { router, board, close: () => board.close() };
}

function parseLimit(raw: unknown): number {
  if (raw === undefined) return Infinity;
  if (typeof raw === 'string' && /^\d{1,6}$/.test(raw)) {
    const n = Number(raw);
    if (n >= 1 && n <= MAX_LIMIT) return n;
  }
  throw new StreamerError(
    'RXS_ERR_BAD_REQUEST',
    `limit=${JSON.stringify(raw)} is not valid: expected one whole number from 1 to ${MAX_LIMIT}`,
    400,
  );
}
