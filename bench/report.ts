// The benchmark's output: a compact table of the server beside the floors and,
// on pubsub, the Socket.IO peer (with the server as a multiple of each), and the
// full result as JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchArgs } from './args.js';
import type { WorkloadName } from './ipc.js';
import type { TargetResult } from './measure.js';
import type { ProfileSummary } from './profileTop.js';

export interface BenchResult {
  readonly startedAt: string;
  readonly args: BenchArgs;
  /** The clients and the traffic, in words. */
  readonly description: string;
  /** The commit the measured build came from, `+dirty` when src/ had changes. */
  readonly revision: string;
  readonly host: {
    readonly node: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly loadavgAtStart: readonly number[];
  };
  readonly rx: TargetResult;
  /** The least a Node process can do for the same clients (pubsub: one per --ws-floors kind). */
  readonly floors: readonly TargetResult[];
  /**
   * The peer a developer would pick instead (pubsub: Socket.IO), measured the
   * same way: with the server's node options, then (--peer-default-flags) with node's own.
   */
  readonly peers: readonly TargetResult[];
  /** What was left out or differs, in words (pubsub on a cluster or several instances). */
  readonly notes?: readonly string[];
  readonly profiles?: Readonly<Record<string, ProfileSummary>>;
}

type Cell = number | null | undefined;

interface Row {
  readonly label: string;
  readonly pick: (r: TargetResult) => Cell;
  readonly digits: number;
  /** Print the server's figure as a multiple of the others' (where that is meaningful). */
  readonly ratio?: boolean;
  /** Only for this workload. */
  readonly only?: WorkloadName;
}

const MB = 1024 * 1024;

function perSecond(r: TargetResult, counter: string): number | undefined {
  const value = r.counters[counter];
  return value === undefined ? undefined : value / r.windowS;
}

/** Events per second per stream of a client group: the mean, and the slowest stream's. */
function rateRows(groups: readonly string[]): Row[] {
  return groups.flatMap((group) => [
    {
      label: `${group} msgs/s/client`,
      pick: (r: TargetResult) => r.rates[group]?.mean,
      digits: 2,
      ratio: true,
    },
    {
      label: `${group} msgs/s, slowest`,
      pick: (r: TargetResult) => r.rates[group]?.min,
      digits: 2,
      ratio: true,
    },
  ]);
}

/** Each instance's share, when the server ran as several (the rows above sum them). */
function instanceRows(count: number): Row[] {
  return Array.from({ length: count }, (_, i) => [
    {
      label: `instance ${i + 1} CPU %`,
      pick: (r: TargetResult) => r.perInstance?.[i]?.corePercent,
      digits: 1,
    },
    {
      label: `instance ${i + 1} RSS end MB`,
      pick: (r: TargetResult) => {
        const end = r.perInstance?.[i]?.rss.end;
        return end === undefined ? undefined : end / MB;
      },
      digits: 1,
    },
  ]).flat();
}

const HEAD_ROWS: Row[] = [
  { label: 'clients connected', pick: (r) => r.connected, digits: 0 },
  { label: 'deliveries/s', pick: (r) => r.deliveriesPerS, digits: 0, ratio: true },
  { label: 'CPU % of a core', pick: (r) => r.cpu.corePercent, digits: 1, ratio: true },
  { label: 'CPU µs/delivery', pick: (r) => r.cpu.usPerDelivery, digits: 2, ratio: true },
  { label: 'latency p50 ms', pick: (r) => r.latencyMs.p50, digits: 2, ratio: true },
  { label: 'latency p90 ms', pick: (r) => r.latencyMs.p90, digits: 2, ratio: true },
  { label: 'latency p99 ms', pick: (r) => r.latencyMs.p99, digits: 2, ratio: true },
  { label: 'latency max ms', pick: (r) => r.latencyMs.max, digits: 1, ratio: true },
];

/** The burst after the window (datastream), from the queue's own figures. */
const burst = (name: string) => (r: TargetResult) => r.afterWindow?.[name];
const BURST_ROWS: Row[] = [
  { label: 'lag at window end', pick: burst('lagAtWindowEnd'), digits: 0 },
  { label: 'burst: peak lag', pick: burst('peakLag'), digits: 0, ratio: true },
  { label: 'burst: caught up after s', pick: burst('caughtUpS'), digits: 1, ratio: true },
  { label: 'burst: latency p50 ms', pick: burst('latencyP50'), digits: 1, ratio: true },
  { label: 'burst: latency p99 ms', pick: burst('latencyP99'), digits: 1, ratio: true },
  { label: 'burst: expected', pick: burst('expected'), digits: 0 },
  { label: 'burst: lost', pick: burst('lost'), digits: 0 },
  { label: 'lag after feeder paused', pick: burst('lagAfterPause'), digits: 0 },
].map((row) => ({ ...row, only: 'datastream' as const }));

const TAIL_ROWS: Row[] = [
  { label: 'RSS before clients MB', pick: (r) => r.rss.beforeClients / MB, digits: 1, ratio: true },
  { label: 'RSS connected MB', pick: (r) => r.rss.afterConnect / MB, digits: 1, ratio: true },
  { label: 'RSS at end MB', pick: (r) => r.rss.end / MB, digits: 1, ratio: true },
  {
    label: 'RSS/conn KB (connect)',
    pick: (r) => r.rss.perConnectionAtConnect / 1024,
    digits: 1,
    ratio: true,
  },
  {
    label: 'RSS/conn KB (end)',
    pick: (r) => r.rss.perConnectionAtEnd / 1024,
    digits: 1,
    ratio: true,
  },
  { label: 'errors', pick: (r) => r.errors, digits: 0 },
  { label: 'drops (server-side)', pick: (r) => r.drops, digits: 0 },
  {
    label: 'eps ticks/s (server)',
    pick: (r) => perSecond(r, 'epsTicks'),
    digits: 2,
    only: 'emojitrack',
  },
  {
    label: 'eps ticks missed',
    pick: (r) => r.counters.epsTicksMissed,
    digits: 0,
    only: 'emojitrack',
  },
  {
    label: 'set reads/s (server)',
    pick: (r) => perSecond(r, 'refreshes'),
    digits: 1,
    only: 'notifications',
  },
  {
    label: 'enqueued msgs/s',
    pick: (r) => perSecond(r, 'sent'),
    digits: 0,
    only: 'datastream',
  },
  { label: 'disconnects', pick: (r) => r.disconnects, digits: 0 },
  {
    label: 'client CPU % of a core',
    pick: (r) =>
      Object.entries(r.loadGenCorePercent)
        .filter(([k]) => k.startsWith('clients'))
        .reduce((a, [, v]) => a + v, 0),
    digits: 1,
  },
  { label: 'feeder CPU % of a core', pick: (r) => r.loadGenCorePercent.feeder, digits: 1 },
  { label: 'redis CPU % of a core', pick: (r) => r.loadGenCorePercent.redis, digits: 1 },
  { label: 'machine busy %', pick: (r) => r.machine.busyPercent, digits: 0 },
  { label: 'other load % of a core', pick: (r) => r.machine.otherCorePercent, digits: 0 },
];

export function show(value: Cell, digits: number): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

const ratioOf = (a: Cell, b: Cell): number | undefined =>
  typeof a === 'number' && typeof b === 'number' && b !== 0 ? a / b : undefined;

export function formatTable(result: BenchResult): string {
  const { args, rx, floors, peers } = result;
  const rows = [
    ...HEAD_ROWS,
    ...instanceRows(rx.perInstance?.length ?? 0),
    ...rateRows(Object.keys(rx.rates)),
    ...BURST_ROWS,
    ...TAIL_ROWS,
  ].filter((row) => row.only === undefined || row.only === args.workload);
  // rx, then each other target with rx as a multiple of it, columns as wide as the names.
  const others = [...floors, ...peers].map((r) => ({
    r,
    width: Math.max(12, r.name.length + 2),
    ratioWidth: Math.max(14, r.name.length + 5),
  }));
  const lines = [
    `rx-streamer bench, ${args.workload}: ${result.description}, ` +
      `workers ${args.workers}${rx.perInstance ? ' each' : ''}, client procs ${args.clientProcs}, ` +
      `window ${rx.windowS.toFixed(1)} s after ${args.warmupS} s warm-up, ` +
      `node options of the server${others.length > 0 ? ' and the others' : ''}: ${args.nodeArgs.join(' ') || 'none'}`,
    `revision ${result.revision}, node ${result.host.node}, ${result.host.cpus} × ${result.host.cpuModel}, load average at start ${result.host.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}`,
    '',
    ''.padEnd(24) +
      'rx'.padStart(12) +
      others
        .map((o) => `${o.r.name.padStart(o.width)}${`rx/${o.r.name}`.padStart(o.ratioWidth)}`)
        .join(''),
  ];
  for (const row of rows) {
    const a = row.pick(rx);
    let line = `${row.label.padEnd(24)}${show(a, row.digits).padStart(12)}`;
    for (const { r, width, ratioWidth } of others) {
      const b = row.pick(r);
      const ratio = row.ratio ? ratioOf(a, b) : undefined;
      line +=
        show(b, row.digits).padStart(width) +
        (ratio === undefined ? '' : `${ratio.toFixed(2)}×`).padStart(ratioWidth);
    }
    lines.push(line);
  }
  for (const note of result.notes ?? []) lines.push(`note: ${note}`);
  for (const r of [rx, ...floors, ...peers])
    for (const w of r.warnings) lines.push(`WARNING (${r.name}): ${w}`);
  return lines.join('\n');
}

/** What every workload's result starts with (BenchResult, and those of recovery and publish). */
export interface ResultHead {
  readonly startedAt: string;
  readonly args: BenchArgs;
  readonly description: string;
  readonly revision: string;
  readonly host: BenchResult['host'];
  readonly profiles?: Readonly<Record<string, ProfileSummary>>;
}

/** Writes the result under bench/results/ and returns the file's path. */
export function writeResult(dir: string, result: ResultHead): string {
  mkdirSync(dir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  const { workload, clients, workers, redis, instances } = result.args;
  const spread = `${redis === 'single' ? '' : `-${redis}`}${instances === 1 ? '' : `-i${instances}`}`;
  const file = join(dir, `bench-${stamp}-${workload}-c${clients}-w${workers}${spread}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
