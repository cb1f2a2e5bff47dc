// The emojitracker families' feeds: score updates for /raw, their 60 Hz rollups
// for /eps, tweets routed by emoji id for /details/:id, kiosk requests. Each
// message is encoded for SSE once, by the hub, and only for a topic with clients.
import { map, share } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import type { BusMessage, PubSubSource } from '../../core/message.js';
import type { FamilySpec } from '../../fanout/Hub.js';
import { detailIdOf } from '../../operators/filterDetail.js';
import { rollupScores } from '../../operators/rollupScores.js';
import type { ScoreRollup } from '../../operators/rollupScores.js';
import { routeByNamespace } from '../../operators/routeByNamespace.js';
import { rollupJson, sseMessage } from '../../transports/sse/sseEncode.js';
import { SCORE_CHANNEL, TWEET_CHANNEL_PREFIX } from './demoFeed.js';

export const KIOSK_CHANNEL_PATTERN = 'stream.interaction.*';
/** Fixed whatever the channel: the one event name kiosk clients listen for. */
export const KIOSK_EVENT = 'stream.interaction.request';

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
  return source.channel(SCORE_CHANNEL).pipe(
    map((m) => m.payload),
    rollupScores(epsIntervalMs, scheduler, (tick) => {
      if (!counts) return;
      counts.ticks++;
      counts.missed += tick.missed;
    }),
    share(),
  );
}

export interface EmojitrackFeedOptions {
  readonly source: PubSubSource;
  /** The score rollups, shared with the score board. */
  readonly rollups: Observable<ScoreRollup>;
  readonly detailIdleMs: number;
  readonly scheduler?: SchedulerLike;
}

const data = (m: BusMessage) => sseMessage({ data: m.payload });

export interface EmojitrackFeeds {
  readonly raw: FamilySpec<BusMessage>;
  readonly eps: FamilySpec<ScoreRollup>;
  readonly details: FamilySpec<BusMessage>;
  readonly kiosk: FamilySpec<BusMessage>;
}

export function emojitrackFeeds(options: EmojitrackFeedOptions): EmojitrackFeeds {
  const { source, detailIdleMs, scheduler } = options;
  const raw: FamilySpec<BusMessage> = {
    feed: source.channel(SCORE_CHANNEL),
    encode: { sse: data },
  };
  const eps: FamilySpec<ScoreRollup> = {
    feed: options.rollups,
    encode: { sse: (rollup) => sseMessage({ data: rollupJson(rollup) }) },
  };
  const details: FamilySpec<BusMessage> = {
    // One group per emoji id, ended when it has been quiet for detailIdleMs.
    routes: source
      .pattern(`${TWEET_CHANNEL_PREFIX}*`)
      .pipe(routeByNamespace((m) => detailIdOf(m.channel), detailIdleMs, scheduler)),
    encode: { sse: (m) => sseMessage({ event: m.channel, data: m.payload }) },
    metricName: 'detail',
  };
  const kiosk: FamilySpec<BusMessage> = {
    feed: source.pattern(KIOSK_CHANNEL_PATTERN),
    encode: { sse: (m) => sseMessage({ event: KIOSK_EVENT, data: m.payload }) },
  };
  return { raw, eps, details, kiosk };
}
