// The emojitracker Streaming API as a protocol module: score updates to
// /subscribe/raw and, rolled up at 60 Hz, to /subscribe/eps; tweets routed by
// emoji id to /subscribe/details/:id; kiosk requests when enabled; the cleanup
// endpoints and the /api/scores snapshot. Composes sources, operators and the
// hub; re-implements none of them.
import { defineProtocol } from '../protocol.js';
import type { ProtocolModule } from '../protocol.js';
import { CleanupOwners, emojitrackCleanup } from './cleanup.js';
import { emojitrackSchema } from './config.js';
import type { EmojitrackConfig } from './config.js';
import { demoFeed } from './demoFeed.js';
import { emojitrackFeeds, scoreRollups } from './feeds.js';
import type { ClockCounts } from './feeds.js';
import { scoresApi } from './scoresApi.js';
import type { ScoreStore } from './scoresApi.js';
import { EMOJITRACK_PREFIX, emojitrackStreams } from './streams.js';

export interface EmojitrackOptions {
  /**
   * Count every score update for /api/scores from the start, whether or not
   * anyone watches /subscribe/eps. Costs one standing subscription to the score
   * channel, so it is off unless asked for (the service turns it on).
   */
  readonly keepScores?: boolean;
  /** Where the `emojitrack_score` snapshot is read; the server's Redis connection by default. */
  readonly scoreStore?: ScoreStore;
}

export function emojitrackProtocol(
  options: EmojitrackOptions = {},
): ProtocolModule<EmojitrackConfig> {
  return defineProtocol({
    name: 'emojitrack',
    config: emojitrackSchema,
    start(ctx, config) {
      const { hub, source, scheduler } = ctx;
      // One rollup of the score channel feeds both /subscribe/eps and the score board.
      const clock: ClockCounts = { ticks: 0, missed: 0 };
      const rollups = scoreRollups(source, config.epsIntervalMs, scheduler, clock);
      const feeds = emojitrackFeeds({
        source,
        rollups,
        detailIdleMs: config.detailIdleMs,
        scheduler,
      });
      hub.addFamily('raw', feeds.raw);
      hub.addFamily('eps', feeds.eps);
      hub.addFamily('details', feeds.details);
      if (config.enableKioskInteractionStream) hub.addFamily('kiosk', feeds.kiosk);
      const owners = new CleanupOwners();
      ctx.streams.add(EMOJITRACK_PREFIX, emojitrackStreams(config, owners));
      ctx.metrics.counter('stream.eps.ticks', 'Ticks of the eps clock', () => clock.ticks);
      ctx.metrics.counter(
        'stream.eps.ticks_missed',
        'Eps clock ticks skipped because the process was too busy to run them on time',
        () => clock.missed,
      );

      ctx.router.use(emojitrackCleanup(hub, owners, { byIp: config.cleanupByIp }));
      const scores = scoresApi({
        source,
        epsIntervalMs: config.epsIntervalMs,
        store: options.scoreStore ?? ctx.redis,
        keepScores: options.keepScores,
        rollups,
        logger: ctx.logger,
        scheduler,
      });
      ctx.router.use(scores.router);

      const feeding =
        ctx.demo && ctx.publisher && config.demoRate > 0
          ? demoFeed({ rate: config.demoRate }).subscribe((p) =>
              ctx.publisher?.publish(p.channel, p.payload),
            )
          : undefined;
      return {
        status: () => ({ eps_ticks: { run: clock.ticks, missed: clock.missed } }),
        close: () => {
          feeding?.unsubscribe();
          scores.close();
        },
      };
    },
  });
}

/** The emojitracker Streaming API with the library defaults. */
export const emojitrack = emojitrackProtocol();

export type { EmojitrackConfig } from './config.js';
export { EMOJITRACK_PREFIX } from './streams.js';
export { validateEmojiId } from './emojiId.js';
