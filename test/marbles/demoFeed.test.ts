// demoFeed under virtual time: its rate, its score-then-tweet pairs, the shape of
// its tweets, its repeatability and its popularity curve.
import { map, takeUntil, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { detailIdOf } from '../../src/operators/filterDetail.js';
import {
  DEMO_IDS,
  SCORE_CHANNEL,
  TWEET_CHANNEL_PREFIX,
  demoFeed,
  emojiChar,
} from '../../src/protocols/emojitrack/demoFeed.js';
import type { DemoFeedOptions, Publication } from '../../src/protocols/emojitrack/demoFeed.js';
import { testScheduler } from './testScheduler.js';

/** Every publication of the first `seconds` of a feed, with the frame it went out at. */
function record(options: DemoFeedOptions, seconds: number): [number, Publication][] {
  const scheduler = testScheduler();
  const out: [number, Publication][] = [];
  scheduler.run(() => {
    demoFeed({ ...options, scheduler })
      .pipe(takeUntil(timer(seconds * 1000 + 1, scheduler)))
      .subscribe((publication) => out.push([scheduler.now(), publication]));
  });
  return out;
}

/** Uses (score updates) per second: second k holds the frames in (1000k, 1000(k+1)]. */
function usesPerSecond(recorded: [number, Publication][], seconds: number): number[] {
  const counts = new Array<number>(seconds).fill(0);
  for (const [frame, { channel }] of recorded)
    if (channel === SCORE_CHANNEL) counts[Math.ceil(frame / 1000) - 1]! += 1;
  return counts;
}

const kind = map((p: Publication) => (p.channel === SCORE_CHANNEL ? 's' : 't'));

describe('demoFeed', () => {
  it('publishes a batch every tickMs, each use a score then a tweet', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      // 100 uses/s in 20 ms ticks: two uses, four publications, per tick.
      const feed = demoFeed({ rate: 100, tickMs: 20, scheduler }).pipe(kind);
      expectObservable(feed, '^ 45ms !').toBe('20ms (stst) 14ms (stst)');
    });
  });

  it('publishes nothing at rate 0, and stops its timer on unsubscribe', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      // Were the interval left running, the virtual clock would never run out of work.
      expectObservable(demoFeed({ rate: 0, scheduler }).pipe(kind), '^ 1000ms !').toBe('-');
    });
  });

  it('publishes as many uses per second as its rate', () => {
    expect(usesPerSecond(record({ rate: 250 }, 5), 5)).toEqual([250, 250, 250, 250, 250]);
    expect(usesPerSecond(record({ rate: 1000, tickMs: 50 }, 3), 3)).toEqual([1000, 1000, 1000]);
  });

  it('carries fractions of a use from tick to tick', () => {
    // 7 uses/s in 20 ms ticks is 0.14 per tick: the carry spreads them out.
    const recorded = record({ rate: 7, tickMs: 20 }, 10);
    const perSecond = usesPerSecond(recorded, 10);
    for (const count of perSecond) expect(Math.abs(count - 7)).toBeLessThanOrEqual(1);
    expect(Math.abs(perSecond.reduce((a, b) => a + b, 0) - 70)).toBeLessThanOrEqual(1);
    expect(recorded).toHaveLength(2 * perSecond.reduce((a, b) => a + b, 0));
  });

  it('follows each score update with a tweet on the channel of that id', () => {
    const recorded = record({ rate: 500 }, 2).map(([, p]) => p);
    expect(recorded).toHaveLength(2000);
    for (let i = 0; i < recorded.length; i += 2) {
      const score = recorded[i]!;
      const tweet = recorded[i + 1]!;
      expect(score.channel).toBe(SCORE_CHANNEL);
      expect(tweet.channel).toBe(`${TWEET_CHANNEL_PREFIX}${score.payload}`);
      expect(detailIdOf(tweet.channel)).toBe(score.payload);
    }
  });

  it('publishes compact tweet JSON with exactly the expected keys', () => {
    const recorded = record({ rate: 250 }, 2).map(([, p]) => p);
    for (let i = 0; i < recorded.length; i += 2) {
      const id = recorded[i]!.payload;
      const payload = recorded[i + 1]!.payload;
      expect(payload).toBe(JSON.stringify(JSON.parse(payload)));
      const tweet = JSON.parse(payload) as Record<string, unknown>;
      expect(Object.keys(tweet).sort()).toEqual(
        ['created_at', 'id', 'links', 'name', 'profile_image_url', 'screen_name', 'text'].sort(),
      );
      expect(tweet.id).toMatch(/^\d+$/);
      expect(tweet.links).toEqual([]);
      for (const key of ['text', 'screen_name', 'name', 'profile_image_url', 'created_at'])
        expect(typeof tweet[key]).toBe('string');
      expect(tweet.text).toContain(emojiChar(id));
      expect(tweet.profile_image_url).toMatch(/^https:\/\//);
      expect(Number.isNaN(Date.parse(tweet.created_at as string))).toBe(false);
    }
  });

  it('still yields integer tweet ids on a fractional virtual clock', () => {
    // 60 Hz ticks put the clock at 16.67, 33.33, ...
    const recorded = record({ rate: 120, tickMs: 1000 / 60 }, 1);
    expect(usesPerSecond(recorded, 1)).toEqual([120]);
    for (const [, p] of recorded)
      if (p.channel !== SCORE_CHANNEL)
        expect((JSON.parse(p.payload) as { id: string }).id).toMatch(/^\d+$/);
  });

  it('repeats itself for the same seed and differs for another', () => {
    const first = record({ rate: 300, seed: 42 }, 2);
    const again = record({ rate: 300, seed: 42 }, 2);
    const other = record({ rate: 300, seed: 43 }, 2);
    expect(again).toEqual(first);
    expect(other).toHaveLength(first.length);
    expect(other).not.toEqual(first);
  });

  it('gives each subscription its own sequence from the seed', () => {
    const scheduler = testScheduler();
    const a: string[] = [];
    const b: string[] = [];
    scheduler.run(() => {
      const feed = demoFeed({ rate: 100, scheduler }).pipe(
        map((p) => p.payload),
        takeUntil(timer(1001, scheduler)),
      );
      feed.subscribe((x) => a.push(x));
      feed.subscribe((x) => b.push(x));
    });
    expect(a).toHaveLength(200);
    expect(b).toEqual(a);
  });

  it('lets popular ids dominate over a long tail of hundreds', () => {
    const counts = new Map<string, number>();
    for (const [, { channel, payload }] of record({ rate: 1000, tickMs: 100 }, 20))
      if (channel === SCORE_CHANNEL) counts.set(payload, (counts.get(payload) ?? 0) + 1);
    const sorted = [...counts.values()].sort((a, b) => b - a);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    expect(sorted.reduce((a, b) => a + b, 0)).toBe(20_000);
    expect(counts.size).toBeGreaterThanOrEqual(300);
    expect(counts.size).toBeLessThanOrEqual(DEMO_IDS.length);
    // The most used id is the first popular one, far ahead of the median id.
    expect([...counts].sort(([, x], [, y]) => y - x)[0]?.[0]).toBe('1F602');
    expect(sorted[0]!).toBeGreaterThan(20 * median);
    for (const id of counts.keys()) expect(DEMO_IDS).toContain(id);
  });
});
