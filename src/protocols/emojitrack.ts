// The emojitracker Streaming API: score updates to /subscribe/raw and, rolled up
// at 60 Hz, to /subscribe/eps; tweets routed by emoji id to /subscribe/details/:id.
// Composes sources, operators and the SSE hub; re-implements none of them.
import { Router } from 'express';
import type { Request, Response } from 'express';
import { map, mergeMap } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import { StreamerError } from '../errors.js';
import type { PubSubSource } from '../message.js';
import { detailIdOf } from '../operators/filterDetail.js';
import { rollupScores } from '../operators/rollupScores.js';
import { routeByNamespace } from '../operators/routeByNamespace.js';
import type { SseFrame, SseHub } from '../sinks/SseHub.js';
import { rollupJson, sseMessage } from '../sinks/sseEncode.js';
import { SCORE_CHANNEL, TWEET_CHANNEL_PREFIX } from '../sources/demoFeed.js';

export interface EmojitrackOptions {
  readonly source: PubSubSource;
  readonly hub: SseHub;
  readonly epsIntervalMs: number;
  readonly detailIdleMs: number;
  readonly enableRawStream: boolean;
  readonly scheduler?: SchedulerLike;
}

/** Upper-case hex codepoints, optionally joined by '-': `1F602`, `0031-20E3`, `1F1FA-1F1F8`. */
const ID = /^[0-9A-F]{1,6}(?:-[0-9A-F]{1,6}){0,9}$/;
const MAX_ID_LENGTH = 64;

export function validateEmojiId(id: string): string {
  if (id.length <= MAX_ID_LENGTH && ID.test(id)) return id;
  const shown = id.length > MAX_ID_LENGTH ? `${id.slice(0, MAX_ID_LENGTH)}…` : id;
  throw new StreamerError(
    'RXS_ERR_BAD_ID',
    `"${shown}" is not an emoji id: expected upper-case hex codepoints joined by "-" (like 1F602 or 0031-20E3), at most ${MAX_ID_LENGTH} characters`,
    400,
  );
}

/** The three families' feeds, each encoded once per message. */
export function emojitrackFeeds(
  options: EmojitrackOptions,
): Record<'raw' | 'eps' | 'details', Observable<SseFrame>> {
  const { source, epsIntervalMs, detailIdleMs, scheduler } = options;
  const scores$ = source.channel(SCORE_CHANNEL);
  return {
    raw: scores$.pipe(map((m) => ({ topic: '', bytes: sseMessage({ data: m.payload }) }))),
    eps: scores$.pipe(
      map((m) => m.payload),
      rollupScores(epsIntervalMs, scheduler),
      map((rollup) => ({ topic: '', bytes: sseMessage({ data: rollupJson(rollup) }) })),
    ),
    details: source.pattern(`${TWEET_CHANNEL_PREFIX}*`).pipe(
      routeByNamespace((m) => detailIdOf(m.channel), detailIdleMs, scheduler),
      mergeMap((route) =>
        route.pipe(
          map((m) => ({
            topic: route.key,
            bytes: sseMessage({ event: m.channel, data: m.payload }),
          })),
        ),
      ),
    ),
  };
}

export function emojitrackRouter(options: EmojitrackOptions): Router {
  const { hub } = options;
  const feeds = emojitrackFeeds(options);
  for (const [name, feed] of Object.entries(feeds)) hub.addFamily(name, feed);

  const router = Router();
  const stream = (family: 'raw' | 'eps') => (req: Request, res: Response) => {
    hub.open(req, res, { family, namespace: `/${family}` });
  };
  if (options.enableRawStream) router.get('/subscribe/raw', stream('raw'));
  router.get('/subscribe/eps', stream('eps'));
  router.get('/subscribe/details/:id', (req: Request<{ id: string }>, res: Response) => {
    const id = validateEmojiId(req.params.id);
    hub.open(req, res, { family: 'details', topic: id, namespace: `/details/${id}` });
  });
  return router;
}
