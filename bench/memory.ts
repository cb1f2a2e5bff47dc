// The memory script (`npx tsx bench/memory.ts`): the built server's steady idle
// RSS and its RSS growth under a publish burst with two paused SSE clients, each
// over fresh servers and rounds, for one build or two run alternately (A/B);
// prints the table and writes the JSON under bench/results/. Never a timed test.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { startNodeArgs } from './args.js';
import { buildChildren } from './children.js';
import { ensureBuilt, revisionOf } from './build.js';
import { ROOT } from './demo.js';
import { parseMemoryArgs, USAGE } from './memoryArgs.js';
import type { MemoryArgs, MemoryMode } from './memoryArgs.js';
import { burstRound, idleRound } from './memoryRounds.js';
import type { Build, BurstRound, IdleRound } from './memoryRounds.js';

const RESULTS = join(ROOT, 'bench', 'results');

function buildOf(label: string, dist: string): Build {
  if (!existsSync(join(dist, 'main.js'))) throw new Error(`${join(dist, 'main.js')} is missing`);
  return { label, dist, revision: revisionOf(dist) };
}

type Rounds = Record<string, { idle: IdleRound[]; burst: BurstRound[] }>;

interface Row<R> {
  readonly label: string;
  readonly digits: number;
  readonly pick: (round: R) => number | undefined;
}

const IDLE_ROWS: Row<IdleRound>[] = [
  { label: 'RSS MB at the mark', digits: 1, pick: (r) => r.rssMb },
  { label: 'min MB, last 5 s', digits: 1, pick: (r) => r.minMb },
  { label: 'max MB, last 5 s', digits: 1, pick: (r) => r.maxMb },
  // Committed about 13 MB once V8's memory reducer has run, about 24 before: tells the two apart.
  { label: 'heap committed MB', digits: 1, pick: (r) => heapMb(r, 'heap_total') },
  { label: 'heap used MB', digits: 1, pick: (r) => heapMb(r, 'heap_used') },
  { label: 'CPU % of a core, idle after', digits: 2, pick: (r) => r.cpuPercent },
];

/** A figure of the server's own memory view at the mark, in MB (absent from a server without /admin). */
function heapMb(round: IdleRound, key: 'heap_total' | 'heap_used'): number | undefined {
  const value = (round.memory as Record<string, unknown> | undefined)?.[key];
  return typeof value === 'number' ? value / 1024 / 1024 : undefined;
}

const BURST_ROWS: Row<BurstRound>[] = [
  { label: 'baseline MB', digits: 1, pick: (r) => r.baselineMb },
  { label: 'peak MB', digits: 1, pick: (r) => r.peakMb },
  { label: 'growth MB', digits: 1, pick: (r) => r.growthMb },
  { label: 'growth MB (VmHWM)', digits: 1, pick: (r) => r.hwmGrowthMb },
  { label: 'publish s', digits: 1, pick: (r) => r.publishS },
  { label: 'caught up s', digits: 1, pick: (r) => r.drainS },
  { label: 'msgs in (server)', digits: 0, pick: (r) => r.msgsIn },
  { label: 'unheard publishes', digits: 0, pick: (r) => r.sent.unheard },
  { label: 'redis reconnects', digits: 0, pick: (r) => r.redisReconnects },
  { label: 'slow clients dropped', digits: 0, pick: (r) => r.slowDropped },
  { label: 'first drop s', digits: 1, pick: (r) => r.drops[0]?.afterS },
  { label: 'scavenges', digits: 0, pick: (r) => r.gc?.scavenges },
  { label: 'scavenge pause ms', digits: 0, pick: (r) => r.gc?.scavengePauseMs },
  { label: 'promoted MB', digits: 0, pick: (r) => r.gc?.promotedMb },
  { label: 'mark-compact pause ms', digits: 0, pick: (r) => r.gc?.fullGcPauseMs },
];

function stats(values: readonly number[]): { min: number; mean: number; max: number } {
  return {
    min: Math.min(...values),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    max: Math.max(...values),
  };
}

function rowsOf<R>(
  rounds: number,
  rows: readonly Row<R>[],
  builds: readonly Build[],
  of: (b: Build) => R[],
): string[] {
  const head =
    ''.padEnd(26) + [...Array(rounds).keys()].map((i) => `r${i + 1}`.padStart(8)).join('');
  const lines = [`${head}${['min', 'mean', 'max'].map((s) => s.padStart(8)).join('')}`];
  for (const row of rows) {
    for (const build of builds) {
      const values = of(build).map(row.pick);
      if (values.every((v) => v === undefined)) continue;
      const known = values.filter((v): v is number => v !== undefined);
      const s = stats(known);
      const cells = [...values, s.min, s.mean, s.max].map((v) =>
        (v === undefined ? '–' : v.toFixed(row.digits)).padStart(8),
      );
      lines.push(`${build.label} ${row.label}`.padEnd(26) + cells.join(''));
    }
  }
  return lines;
}

/** The build's folder, relative to the repository when inside it. */
function shortPath(dist: string): string {
  const inside = relative(ROOT, dist);
  return inside.startsWith('..') ? dist : inside;
}

function formatTable(args: MemoryArgs, builds: readonly Build[], rounds: Rounds): string {
  const { burst } = args;
  const lines = [
    `rx-streamer memory: node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}, ` +
      `server node options: ${args.nodeArgs.join(' ') || 'none'}` +
      Object.entries(args.env)
        .map(([name, value]) => `, ${name}=${value}`)
        .join(''),
    ...builds.map((b) => `${b.label} = ${shortPath(b.dist)} (${b.revision})`),
  ];
  if (args.modes.includes('idle'))
    lines.push(
      '',
      `idle: no clients, PROTOCOLS=${args.protocols ?? 'all'}, RSS at ${args.idleAtS} s after the start, ` +
        `CPU over the ${args.idleCpuS} s after that`,
      ...rowsOf(args.rounds, IDLE_ROWS, builds, (b) => rounds[b.label]?.idle ?? []),
    );
  if (args.modes.includes('burst'))
    lines.push(
      '',
      `burst: ${burst.scores} score updates + ${burst.tweets} × ${burst.tweetBytes} B tweets, ` +
        `pipelines of ${burst.batch}, paused /subscribe/${burst.scorePath} and /subscribe/details/<id>, ` +
        `${burst.settleS} s after the start, Redis's pub/sub output limit lifted; ` +
        `growth = peak − median of the second before, peak until ${burst.tailS} s after the server caught up`,
      ...rowsOf(args.rounds, BURST_ROWS, builds, (b) => rounds[b.label]?.burst ?? []),
    );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseMemoryArgs(process.argv.slice(2), startNodeArgs(join(ROOT, 'package.json')));
  if (!args) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (args.build) ensureBuilt();
  // All protocols is the server's default: whatever the caller's shell holds.
  if (args.protocols === undefined) delete process.env.PROTOCOLS;
  const builds = [buildOf('A', args.dist ? resolve(args.dist) : join(ROOT, 'dist'))];
  if (args.distB) builds.push(buildOf('B', resolve(args.distB)));
  buildChildren();
  const startedAt = new Date().toISOString();
  const loadavgAtStart = loadavg();
  const rounds: Rounds = Object.fromEntries(builds.map((b) => [b.label, { idle: [], burst: [] }]));
  for (const mode of args.modes as MemoryMode[]) {
    for (let round = 0; round < args.rounds; round++) {
      // A then B, then B then A: drift on a shared machine falls on both alike.
      const order = round % 2 === 0 ? builds : [...builds].reverse();
      for (const build of order) {
        process.stderr.write(`${mode} round ${round + 1}/${args.rounds}, ${build.label}\n`);
        const own = rounds[build.label] as Rounds[string];
        if (mode === 'idle') {
          const r = await idleRound(build, args);
          own.idle.push(r);
          process.stderr.write(
            `  RSS ${r.rssMb.toFixed(1)} MB at ${args.idleAtS} s, idle CPU ${r.cpuPercent.toFixed(2)} %\n`,
          );
        } else {
          const r = await burstRound(build, args);
          own.burst.push(r);
          process.stderr.write(
            `  baseline ${r.baselineMb.toFixed(1)} MB, peak ${r.peakMb.toFixed(1)} MB, growth ${r.growthMb.toFixed(1)} MB\n`,
          );
        }
      }
    }
  }
  const host = {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadavgAtStart,
    loadavgAtEnd: loadavg(),
  };
  process.stdout.write(`\n${formatTable(args, builds, rounds)}\n`);
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `memory-${startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ startedAt, args, host, builds, rounds }, null, 2)}\n`);
  process.stdout.write(`\nresult: ${file}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`memory failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
