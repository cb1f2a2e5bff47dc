// Emojitracker-like traffic for demos, tests and the `feed` command: weighted
// emoji ids (a few very popular, a long tail of hundreds), each use published as
// a score update followed by a plausible tweet for that emoji, as the real
// producer does.
import { asyncScheduler, defer, interval, mergeMap } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import type { Publication } from '../../core/message.js';

export const SCORE_CHANNEL = 'stream.score_updates';
export const TWEET_CHANNEL_PREFIX = 'stream.tweet_updates.';

export type { Publication };

export interface DemoFeedOptions {
  /** Emoji uses per second (each is two publications). */
  readonly rate?: number;
  /** How often a batch goes out (ms); the rate is spread evenly over batches. */
  readonly tickMs?: number;
  /** Seed for the pseudo-random choices, so a run can be repeated. */
  readonly seed?: number;
  readonly scheduler?: SchedulerLike;
}

/** The most used emoji first; their order sets their weight. */
const POPULAR = [
  '1F602',
  '2764',
  '267B',
  '1F60D',
  '2665',
  '1F62D',
  '1F60A',
  '1F612',
  '1F495',
  '1F618',
];

function range(from: number, to: number): string[] {
  const out: string[] = [];
  for (let cp = from; cp <= to; cp++) out.push(cp.toString(16).toUpperCase());
  return out;
}

/** Hundreds of real emoji ids, including keycaps and flags (multi-codepoint ids). */
export const DEMO_IDS: readonly string[] = [
  ...new Set([
    ...POPULAR,
    ...range(0x1f600, 0x1f64f),
    ...range(0x1f440, 0x1f4fc),
    ...range(0x1f680, 0x1f6c5),
    ...range(0x1f300, 0x1f320),
    ...range(0x1f330, 0x1f37c),
    ...['2600', '2601', '2614', '26A1', '2744', '2B50', '2615', '270C', '270B', '2728'],
    ...range(0x30, 0x39).map((d) => `00${d}-20E3`),
    ...['0023-20E3', '1F1FA-1F1F8', '1F1EC-1F1E7', '1F1EF-1F1F5', '1F1EB-1F1F7', '1F1E9-1F1EA'],
  ]),
];

/** Zipf-like weights: the emoji at rank r is used about 1/(r+1)^1.1 as often as the first. */
const CUMULATIVE: Float64Array = (() => {
  const c = new Float64Array(DEMO_IDS.length);
  let sum = 0;
  for (let r = 0; r < DEMO_IDS.length; r++) c[r] = sum += 1 / Math.pow(r + 1, 1.1);
  for (let r = 0; r < c.length; r++) c[r] = (c[r] as number) / sum;
  return c;
})();

/** mulberry32: small, fast and good enough for demo traffic. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pickId(random: () => number): string {
  const x = random();
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((CUMULATIVE[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return DEMO_IDS[lo] as string;
}

export function emojiChar(id: string): string {
  return String.fromCodePoint(...id.split('-').map((h) => parseInt(h, 16)));
}

const FIRST = ['sam', 'alex', 'jo', 'kim', 'lee', 'max', 'ana', 'ola', 'noa', 'eli', 'ren', 'ida'];
const LAST = [
  'rivers',
  'stone',
  'bloom',
  'vega',
  'park',
  'moss',
  'quinn',
  'frost',
  'lake',
  'north',
];
const TEXTS = [
  'cannot stop laughing at this %',
  'monday again %',
  'best concert of my life %%',
  'new phone who dis %',
  'coffee first, then the world %',
  'that ending though %',
  'good morning everyone %',
  'we won!!! %%%',
  'this weather %',
  'happy birthday to my best friend %',
];

export function demoTweet(id: string, random: () => number, now: number): string {
  const first = FIRST[Math.floor(random() * FIRST.length)] as string;
  const last = LAST[Math.floor(random() * LAST.length)] as string;
  const n = Math.floor(random() * 1000);
  const screenName = `${first}_${last}${n}`;
  const text = (TEXTS[Math.floor(random() * TEXTS.length)] as string).replace(/%/g, emojiChar(id));
  return JSON.stringify({
    // A snowflake-like id; clamped and floored so that a virtual clock (near 0,
    // or fractional) still yields a non-negative integer instead of a RangeError.
    id: String(
      BigInt(Math.max(0, Math.floor(now - 1288834974657))) * 4194304n +
        BigInt(Math.floor(random() * 4194304)),
    ),
    text,
    screen_name: screenName,
    name: `${first[0]?.toUpperCase()}${first.slice(1)} ${last[0]?.toUpperCase()}${last.slice(1)}`,
    links: [],
    profile_image_url: `https://pbs.twimg.com/profile_images/${n}/${screenName}_normal.png`,
    created_at: new Date(now).toUTCString(),
  });
}

/** One emoji use: the score update, then its tweet. */
export function demoUse(random: () => number, now: number): [Publication, Publication] {
  const id = pickId(random);
  return [
    { channel: SCORE_CHANNEL, payload: id },
    { channel: `${TWEET_CHANNEL_PREFIX}${id}`, payload: demoTweet(id, random, now) },
  ];
}

/** An endless stream of publications at `rate` emoji uses per second. */
export function demoFeed(options: DemoFeedOptions = {}): Observable<Publication> {
  const { rate = 250, tickMs = 20, seed = 0x5eed, scheduler = asyncScheduler } = options;
  const perTick = (rate * tickMs) / 1000;
  // Each subscription gets its own random sequence and its own fractional carry.
  return defer(() => {
    const random = seededRandom(seed);
    let owed = 0;
    return interval(tickMs, scheduler).pipe(
      mergeMap(() => {
        owed += perTick;
        const count = Math.floor(owed);
        owed -= count;
        const now = scheduler.now();
        const out: Publication[] = [];
        for (let i = 0; i < count; i++) out.push(...demoUse(random, now));
        return out;
      }),
    );
  });
}
