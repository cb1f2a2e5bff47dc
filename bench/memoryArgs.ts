// The memory script's command line: `npx tsx bench/memory.ts --mode burst --rounds 5 …`.
import { parseArgs } from 'node:util';
import { envPairs } from './args.js';

export type MemoryMode = 'idle' | 'burst';
/** The paused client on the score feed: every update (`raw`) or the 60 Hz rollups (`eps`). */
export type ScorePath = 'raw' | 'eps';

export interface BurstShape {
  readonly scores: number;
  readonly tweets: number;
  readonly tweetBytes: number;
  /** PUBLISH commands per pipeline, each awaited before the next. */
  readonly batch: number;
  readonly scorePath: ScorePath;
  /** Seconds after the server's start before the clients connect: past V8's memory reducer. */
  readonly settleS: number;
  /** Seconds the RSS is still sampled after the server has caught up with the burst. */
  readonly tailS: number;
}

export interface MemoryArgs {
  readonly modes: readonly MemoryMode[];
  readonly rounds: number;
  /** The build output to run (A); the repository's dist/ unless given. */
  readonly dist: string | undefined;
  /** A second build (B), run alternately with A in every round. */
  readonly distB: string | undefined;
  /** Rebuild dist/ when it is older than src/ (not done for another --dist). */
  readonly build: boolean;
  readonly nodeArgs: readonly string[];
  /** Idle: PROTOCOLS for the server; undefined for all. */
  readonly protocols: string | undefined;
  /** Idle: seconds after the start at which the RSS is read. */
  readonly idleAtS: number;
  /** Idle: seconds after the mark over which the server's CPU is measured. */
  readonly idleCpuS: number;
  readonly burst: BurstShape;
  /** Run the server with --trace-gc --trace-gc-nvp and sum the burst's pauses and promotion. */
  readonly gcTrace: boolean;
  /** Settings added to the server's environment in both modes (--env NAME=VALUE). */
  readonly env: Readonly<Record<string, string>>;
}

export const USAGE = `usage: npx tsx bench/memory.ts [options]
  --mode M           idle, burst or both (default both)
  --rounds N         rounds of each mode, each on a fresh server and Redis (default 3)
  --dist DIR         build output to run (default dist/, built first when older than src/)
  --dist-b DIR       a second build, run alternately with the first in every round (A/B)
  --no-build         run dist/ as it is, even when src/ is newer
  --node-args "…"    node options for the server (default: those of npm start; "" for none)
  --protocols LIST   idle: PROTOCOLS for the server (default all)
  --idle-at S        idle: seconds after the start at which RSS is read (default 15)
  --idle-cpu S       idle: seconds after that over which the server's CPU is measured (default 20)
  --scores N         burst: score updates published (default 400000)
  --tweets N         burst: tweets published, interleaved with the score updates (default 23000)
  --tweet-bytes N    burst: size of each tweet's JSON (default 8192)
  --batch N          burst: PUBLISH commands per pipeline, each awaited (default 1000)
  --score-path P     burst: the paused score client's stream, raw or eps (default raw)
  --settle S         burst: seconds after the start before the clients connect (default 10)
  --tail S           burst: seconds RSS is still sampled after the server caught up (default 5)
  --gc-trace         run the server with --trace-gc --trace-gc-nvp: the burst's GC pauses and promotion
  --env NAME=VALUE   a setting for the server, e.g. SSE_MAX_BUFFER_BYTES=16777216 (repeatable)
  --help`;

function number(raw: string | undefined, name: string, fallback: number, min: number, max: number) {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new Error(`--${name} ${raw} is not valid: expected a number from ${min} to ${max}`);
  return value;
}

function whole(raw: string | undefined, name: string, fallback: number, min: number, max: number) {
  const value = number(raw, name, fallback, min, max);
  if (!Number.isInteger(value))
    throw new Error(`--${name} ${String(raw)} is not valid: expected a whole number`);
  return value;
}

/** Parses the options; returns undefined when --help was asked for. */
export function parseMemoryArgs(
  argv: string[],
  defaultNodeArgs: readonly string[],
): MemoryArgs | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      mode: { type: 'string' },
      rounds: { type: 'string' },
      dist: { type: 'string' },
      'dist-b': { type: 'string' },
      'no-build': { type: 'boolean' },
      'node-args': { type: 'string' },
      protocols: { type: 'string' },
      'idle-at': { type: 'string' },
      'idle-cpu': { type: 'string' },
      scores: { type: 'string' },
      tweets: { type: 'string' },
      'tweet-bytes': { type: 'string' },
      batch: { type: 'string' },
      'score-path': { type: 'string' },
      settle: { type: 'string' },
      tail: { type: 'string' },
      'gc-trace': { type: 'boolean' },
      env: { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return undefined;
  const mode = values.mode ?? 'both';
  if (!['idle', 'burst', 'both'].includes(mode))
    throw new Error(`--mode ${mode} is not valid: expected idle, burst or both`);
  const scorePath = values['score-path'] ?? 'raw';
  if (scorePath !== 'raw' && scorePath !== 'eps')
    throw new Error(`--score-path ${scorePath} is not valid: expected raw or eps`);
  const protocols = values.protocols?.trim();
  const env = envPairs(values.env);
  return {
    modes: mode === 'both' ? ['idle', 'burst'] : [mode as MemoryMode],
    rounds: whole(values.rounds, 'rounds', 3, 1, 100),
    dist: values.dist,
    distB: values['dist-b'],
    build: !values['no-build'] && values.dist === undefined,
    nodeArgs:
      values['node-args'] === undefined
        ? defaultNodeArgs
        : values['node-args'].split(/\s+/).filter((a) => a !== ''),
    protocols: protocols === undefined || protocols === 'all' ? undefined : protocols,
    idleAtS: number(values['idle-at'], 'idle-at', 15, 1, 3600),
    idleCpuS: number(values['idle-cpu'], 'idle-cpu', 20, 1, 3600),
    burst: {
      scores: whole(values.scores, 'scores', 400_000, 0, 100_000_000),
      tweets: whole(values.tweets, 'tweets', 23_000, 0, 10_000_000),
      tweetBytes: whole(values['tweet-bytes'], 'tweet-bytes', 8192, 512, 1024 * 1024),
      batch: whole(values.batch, 'batch', 1000, 1, 100_000),
      scorePath,
      settleS: number(values.settle, 'settle', 10, 0, 3600),
      tailS: number(values.tail, 'tail', 5, 0, 3600),
    },
    gcTrace: values['gc-trace'] ?? false,
    env,
  };
}
