// The memory script's burst, in its own process so its garbage and CPU are not
// the sampler's: score updates and ~8 KB tweets, interleaved evenly, PUBLISHed
// as fast as Redis takes them, one awaited pipeline per batch. The traffic is
// made here, not by the build under test, so builds A and B get the same bytes
// (only the generator's seeded PRNG, the same in every build, is the build's).
import { Redis } from 'ioredis';
import { loadDemo } from './demo.js';

export interface PublisherPlan {
  readonly redisUrl: string;
  readonly scores: number;
  readonly tweets: number;
  readonly tweetBytes: number;
  readonly batch: number;
  readonly scoreChannel: string;
  /** Every tweet's channel: the paused detail client's. */
  readonly tweetChannel: string;
  /** The emoji id the tweets are for. */
  readonly detailId: string;
  readonly seed: number;
  /** The build whose seeded PRNG picks the score updates' ids. */
  readonly dist: string;
}

export type ToPublisher = { readonly type: 'go' } | { readonly type: 'stop' };

export interface BurstSent {
  readonly commands: number;
  readonly bytes: number;
  readonly ms: number;
  /** PUBLISHes no subscriber received (PUBLISH answered 0): the server was not listening. */
  readonly unheard: number;
  readonly errors: number;
}

export type FromPublisher =
  { readonly type: 'ready' } | { readonly type: 'done'; readonly sent: BurstSent };

/** Well-used emoji, most used first; score updates pick them with Zipf-like weights. */
const IDS = (
  '2764 1F602 267B 2665 1F60D 1F62D 1F60A 1F612 1F618 263A 1F629 1F44C 1F60F 1F601 1F614 ' +
  '1F648 1F4AF 1F633 1F60C 1F495 2728 1F64F 1F44D 1F609 1F622 1F64C 1F605 1F60E 1F440 1F4AA ' +
  '1F525 1F60B 1F62A 1F615 1F621 1F494 1F49C 1F499 1F49B 1F49A 1F603 1F604 1F606 1F61C 1F61D ' +
  '1F61E 1F620 1F623 1F624 1F625 1F628 1F62B 1F630 1F631 1F634 1F637 1F64A 1F389 1F3B6 2B50'
).split(' ');

function idPicker(random: () => number): () => string {
  const cumulative: number[] = [];
  let sum = 0;
  for (let k = 0; k < IDS.length; k++) cumulative.push((sum += 1 / (k + 1)));
  return () => {
    const x = random() * sum;
    const k = cumulative.findIndex((c) => c >= x);
    return IDS[k === -1 ? IDS.length - 1 : k] as string;
  };
}

/** Tweet `n` for `id`: a tweet-like JSON of about `bytes` bytes, each with its own id. */
function tweetMaker(id: string, bytes: number): (n: number) => string {
  const emoji = String.fromCodePoint(...id.split('-').map((h) => parseInt(h, 16)));
  const rest = {
    text: `cannot stop laughing at this ${emoji}${emoji}`,
    screen_name: 'river_vega417',
    name: 'River Vega',
    links: [],
    profile_image_url: 'https://pbs.twimg.com/profile_images/417/river_vega417_normal.png',
    created_at: new Date(Date.UTC(2013, 5, 1)).toUTCString(),
    entities: { hashtags: [], urls: [], user_mentions: [], symbols: [] },
    user: { id_str: '1234567890', followers_count: 417, lang: 'en', description: '' },
  };
  const probe = JSON.stringify({ id: '1'.repeat(19), ...rest });
  const filler = 'lorem ipsum dolor sit amet ';
  const missing = Math.max(0, bytes - Buffer.byteLength(probe));
  rest.user.description = filler.repeat(Math.ceil(missing / filler.length)).slice(0, missing);
  const tail = JSON.stringify(rest).slice(1);
  // 19 digits, like a snowflake id, so every tweet has the same size.
  return (n) => `{"id":"${String(10n ** 18n + BigInt(n))}",${tail}`;
}

/** Channel, payload and the payload's size in bytes, in publishing order. */
function* commands(plan: PublisherPlan, random: () => number): Generator<[string, string, number]> {
  const pick = idPicker(random);
  const tweet = tweetMaker(plan.detailId, plan.tweetBytes);
  const tweetSize = Buffer.byteLength(tweet(0));
  const total = plan.scores + plan.tweets;
  let tweets = 0;
  for (let k = 0; k < total; k++) {
    // A tweet wherever the even share of tweets steps up: ~17 score updates apart by default.
    const due = Math.floor(((k + 1) * plan.tweets) / total);
    if (due > tweets) {
      yield [plan.tweetChannel, tweet(tweets++), tweetSize];
    } else {
      const id = pick();
      yield [plan.scoreChannel, id, id.length];
    }
  }
}

async function publishAll(
  redis: Redis,
  plan: PublisherPlan,
  random: () => number,
): Promise<BurstSent> {
  let count = 0;
  let bytes = 0;
  let unheard = 0;
  let errors = 0;
  const started = performance.now();
  let pipeline = redis.pipeline();
  const flush = async () => {
    for (const [err, receivers] of (await pipeline.exec()) ?? []) {
      if (err) errors++;
      else if (receivers === 0) unheard++;
    }
    pipeline = redis.pipeline();
  };
  for (const [channel, payload, size] of commands(plan, random)) {
    pipeline.publish(channel, payload);
    bytes += size;
    if (++count % plan.batch === 0) await flush();
  }
  if (count % plan.batch !== 0) await flush();
  return { commands: count, bytes, ms: performance.now() - started, unheard, errors };
}

const raw = process.argv[2];
if (!raw) throw new Error('expected the plan as a JSON argument');
const plan = JSON.parse(raw) as PublisherPlan;
const random = (await loadDemo(plan.dist)).seededRandom(plan.seed);
const redis = new Redis(plan.redisUrl, { connectionName: 'rx-streamer-bench:memory' });
await redis.ping();
const send = (message: FromPublisher) => process.send?.(message);
process.on('message', (message: ToPublisher) => {
  if (message.type === 'go') {
    void publishAll(redis, plan, random).then((sent) => send({ type: 'done', sent }));
  } else {
    redis.disconnect();
    process.disconnect();
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
