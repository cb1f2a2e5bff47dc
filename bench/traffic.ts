// The benchmark's traffic clock and its emojitracker traffic: emoji uses at a
// fixed rate, each a score update and a tweet whose JSON carries "sent_at"
// (wall-clock ms, fractional) for latency. Messages go out in small batches on a
// drift-free clock, so a late timer catches up instead of lowering the rate. The
// feeder and the floor both run this.
import type { DemoModule } from './demo.js';

export interface Use {
  readonly id: string;
  readonly tweetChannel: string;
  /** The generator's tweet JSON with `"sent_at":<ms>` added as its last key. */
  readonly tweet: string;
}

export interface TrafficOptions {
  /** Messages per second. */
  readonly rate: number;
  readonly seed: number;
  /** How often a batch goes out. */
  readonly tickMs: number;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Calls `onDue` every `tickMs` with the number of messages due since the last
 * call at `rate` per second, and the send time to stamp them with; returns a
 * function that stops the clock.
 */
export function startClock(
  options: Pick<TrafficOptions, 'rate' | 'tickMs'>,
  onDue: (due: number, sentAt: string) => void,
): () => void {
  const started = performance.now();
  let sent = 0;
  let ticks = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const due = Math.floor(((performance.now() - started) * options.rate) / 1000) - sent;
    if (due > 0) {
      sent += due;
      onDue(due, wallClockMs().toFixed(3));
    }
    ticks++;
    timer = setTimeout(tick, Math.max(0, started + ticks * options.tickMs - performance.now()));
  };
  timer = setTimeout(tick, options.tickMs);
  return () => clearTimeout(timer);
}

/** JSON text with `"sent_at":<sentAt>` added as its last key. */
export const stamped = (json: string, sentAt: string): string =>
  `${json.slice(0, -1)},"sent_at":${sentAt}}`;

/** Starts the emoji traffic; returns a function that stops it. */
export function startTraffic(
  demo: DemoModule,
  options: TrafficOptions,
  onBatch: (uses: Use[]) => void,
): () => void {
  const random = demo.seededRandom(options.seed);
  return startClock(options, (due, sentAt) => {
    const uses: Use[] = [];
    for (let i = 0; i < due; i++) {
      const [score, tweet] = demo.demoUse(random, Date.now());
      uses.push({
        id: score.payload,
        tweetChannel: tweet.channel,
        tweet: stamped(tweet.payload, sentAt),
      });
    }
    onBatch(uses);
  });
}
