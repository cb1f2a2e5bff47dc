// The emojitracker Streaming API: score updates to /subscribe/raw and, rolled up
// at 60 Hz, to /subscribe/eps; tweets routed by emoji id to /subscribe/details/:id;
// kiosk requests to /subscribe/kiosk_interaction when enabled.
// Composes sources, operators and the SSE hub; re-implements none of them.
import { finalize, map, mergeMap, share, tap } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import { StreamerError } from '../../core/errors.js';
import type { StreamResolver } from '../../transports/sse/StreamRoutes.js';
import type { PubSubSource } from '../../core/message.js';
import { detailIdOf } from '../../operators/filterDetail.js';
import { rollupScores } from '../../operators/rollupScores.js';
import type { ScoreRollup } from '../../operators/rollupScores.js';
import { routeByNamespace } from '../../operators/routeByNamespace.js';
import type { SseFrame, SseHub, SseOpenOptions } from '../../fanout/Hub.js';
import { rollupJson, sseMessage, sseRetry } from '../../transports/sse/sseEncode.js';
import { SCORE_CHANNEL, TWEET_CHANNEL_PREFIX } from './demoFeed.js';
import { steadyTicks } from '../../sources/steadyTicks.js';

export interface EmojitrackOptions {
  readonly source: PubSubSource;
  readonly hub: SseHub;
  readonly epsIntervalMs: number;
  readonly detailIdleMs: number;
  readonly enableRawStream: boolean;
  readonly enableKioskInteractionStream?: boolean;
  /** The Ruby streamer's forced refresh; off when absent. */
  readonly forceRefresh?: ForceRefresh;
  /** Told the number of live detail routes whenever it changes. */
  readonly onDetailRoutes?: (live: number) => void;
  readonly scheduler?: SchedulerLike;
  /**
   * The score rollups, when the app shares them with other consumers (the score
   * board); by default the eps family rolls up the score channel itself.
   */
  readonly rollups?: Observable<ScoreRollup>;
}

/** Retry lines, the cleanup header and a maximum age; details have their own timings. */
export interface ForceRefresh {
  readonly retryMs: number;
  readonly detailRetryMs: number;
  readonly maxAgeMs: number;
  readonly detailMaxAgeMs: number;
}

export const KIOSK_CHANNEL_PATTERN = 'stream.interaction.*';
/** Fixed whatever the channel: the one event name kiosk clients listen for. */
export const KIOSK_EVENT = 'stream.interaction.request';

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

/** What the eps clock did: ticks run, and ticks skipped while the process was too busy. */
export interface ClockCounts {
  ticks: number;
  missed: number;
}

/**
 * The 60 Hz rollups of the score channel, shared by whoever subscribes while it
 * runs. A busy process slows the clock rather than queueing ticks: the rollup
 * after a gap holds every update of it, and `counts` records the ticks missed.
 */
export function scoreRollups(
  source: PubSubSource,
  epsIntervalMs: number,
  scheduler?: SchedulerLike,
  counts?: ClockCounts,
): Observable<ScoreRollup> {
  const clock = steadyTicks(epsIntervalMs, scheduler).pipe(
    tap((tick) => {
      if (!counts) return;
      counts.ticks++;
      counts.missed += tick.missed;
    }),
  );
  return source.channel(SCORE_CHANNEL).pipe(
    map((m) => m.payload),
    rollupScores(clock),
    share(),
  );
}

/** The families' feeds, each encoded once per message. */
export function emojitrackFeeds(
  options: EmojitrackOptions,
): Record<'raw' | 'eps' | 'details' | 'kiosk', Observable<SseFrame>> {
  const { source, epsIntervalMs, detailIdleMs, scheduler, onDetailRoutes } = options;
  let liveRoutes = 0;
  const scores$ = source.channel(SCORE_CHANNEL);
  return {
    raw: scores$.pipe(map((m) => ({ topic: '', bytes: sseMessage({ data: m.payload }) }))),
    eps: (options.rollups ?? scoreRollups(source, epsIntervalMs, scheduler)).pipe(
      map((rollup) => ({ topic: '', bytes: sseMessage({ data: rollupJson(rollup) }) })),
    ),
    details: source.pattern(`${TWEET_CHANNEL_PREFIX}*`).pipe(
      routeByNamespace((m) => detailIdOf(m.channel), detailIdleMs, scheduler),
      mergeMap((route) => {
        onDetailRoutes?.(++liveRoutes);
        return route.pipe(
          map((m) => ({
            topic: route.key,
            bytes: sseMessage({ event: m.channel, data: m.payload }),
          })),
          finalize(() => onDetailRoutes?.(--liveRoutes)),
        );
      }),
    ),
    kiosk: source
      .pattern(KIOSK_CHANNEL_PATTERN)
      .pipe(
        map((m) => ({ topic: '', bytes: sseMessage({ event: KIOSK_EVENT, data: m.payload }) })),
      ),
  };
}

function disabled(path: string, variable: string): never {
  throw new StreamerError(
    'RXS_ERR_DISABLED',
    `${path} is disabled on this server (set ${variable}=true to enable it)`,
    404,
  );
}

/** What forced refresh adds to a stream of each kind; nothing when it is off. */
function refreshOptions(
  forceRefresh: ForceRefresh | undefined,
): Record<'score' | 'detail', Partial<SseOpenOptions>> {
  if (!forceRefresh) return { score: {}, detail: {} };
  const headers = { 'X-Sse-Cleanup-Requested': 'true' };
  return {
    score: { preamble: sseRetry(forceRefresh.retryMs), headers, maxAgeMs: forceRefresh.maxAgeMs },
    detail: {
      preamble: sseRetry(forceRefresh.detailRetryMs),
      headers,
      maxAgeMs: forceRefresh.detailMaxAgeMs,
    },
  };
}

export const EMOJITRACK_PREFIX = '/subscribe/';
const DETAILS_PREFIX = '/subscribe/details/';

/**
 * Registers the families on the hub and resolves the endpoints' paths to their
 * streams; add it to the app's StreamRoutes under EMOJITRACK_PREFIX.
 */
export function emojitrackStreams(options: EmojitrackOptions): StreamResolver {
  const { hub } = options;
  const { kiosk, ...feeds } = emojitrackFeeds(options);
  for (const [name, feed] of Object.entries(feeds)) hub.addFamily(name, feed);
  if (options.enableKioskInteractionStream) hub.addFamily('kiosk', kiosk);
  const refresh = refreshOptions(options.forceRefresh);

  return (path) => {
    switch (path) {
      case '/subscribe/eps':
        return { ...refresh.score, family: 'eps', namespace: '/eps' };
      case '/subscribe/raw':
        if (!options.enableRawStream) disabled(path, 'ENABLE_RAW_STREAM');
        return { ...refresh.score, family: 'raw', namespace: '/raw' };
      case '/subscribe/kiosk_interaction':
        if (!options.enableKioskInteractionStream) {
          disabled(path, 'ENABLE_KIOSK_INTERACTION_STREAM');
        }
        return { ...refresh.score, family: 'kiosk', namespace: '/kiosk_interaction' };
    }
    if (!path.startsWith(DETAILS_PREFIX)) return undefined;
    const rawId = path.slice(DETAILS_PREFIX.length);
    if (rawId === '' || rawId.includes('/')) return undefined;
    const id = validateEmojiId(rawId);
    return { ...refresh.detail, family: 'details', topic: id, namespace: `/details/${id}` };
  };
}
