// The publish workload's table: one column per publish path (a bare PUBLISH,
// publish() with history, client publishes and POST /api/publish through the
// server), the server's and Redis's CPU per publish, and each path's cost as a
// multiple of the bare PUBLISH's.
import type { FeedStats, PublishPath } from './ipc.js';
import type { TargetResult } from './measure.js';
import { show } from './report.js';
import type { ResultHead } from './report.js';

export interface PublishResult extends ResultHead {
  readonly paths: Partial<Record<PublishPath, TargetResult>>;
}

/** What each column is, under the table. */
const MEANING: Readonly<Record<PublishPath, string>> = {
  plain: 'PUBLISH from the publisher process: history off',
  script: "the build's publish() from the publisher process: the history script in Redis",
  client: `{"action":"publish"} over WebSocket (20 connections), published by the server (with the history script since recovery landed)`,
  api: 'POST /api/publish (kept-alive HTTP): the server runs the history script',
};

/** The budget the history path is held to, as a multiple of history off, per publish. */
const TARGET = 1.5;

type Pick = (r: TargetResult) => number | null | undefined;

const published = (r: TargetResult) => r.counters.sent ?? NaN;
const perPublishUs = (seconds: number, r: TargetResult) => (seconds * 1e6) / published(r);
const redisSeconds = (r: TargetResult) => ((r.loadGenCorePercent.redis ?? NaN) * r.windowS) / 100;
const feederStats = (r: TargetResult) => r.serverSide.extra?.feeder as FeedStats | undefined;

const ROWS: readonly { label: string; pick: Pick; digits: number; ratio?: boolean }[] = [
  { label: 'subscribers connected', pick: (r) => r.connected, digits: 0 },
  { label: 'publishes/s sent', pick: (r) => published(r) / r.windowS, digits: 0 },
  { label: 'msgs/s through/subscriber', pick: (r) => r.rates.ws?.mean, digits: 1 },
  { label: 'msgs/s through, slowest', pick: (r) => r.rates.ws?.min, digits: 1 },
  { label: 'server CPU % of a core', pick: (r) => r.cpu.corePercent, digits: 1, ratio: true },
  {
    label: 'server CPU µs/publish',
    pick: (r) => perPublishUs(r.cpu.seconds, r),
    digits: 1,
    ratio: true,
  },
  {
    label: 'redis CPU % of a core',
    pick: (r) => r.loadGenCorePercent.redis,
    digits: 1,
    ratio: true,
  },
  {
    label: 'redis CPU µs/publish',
    pick: (r) => perPublishUs(redisSeconds(r), r),
    digits: 1,
    ratio: true,
  },
  {
    label: 'server+redis µs/publish',
    pick: (r) => perPublishUs(r.cpu.seconds + redisSeconds(r), r),
    digits: 1,
    ratio: true,
  },
  { label: 'publisher CPU % of a core', pick: (r) => r.loadGenCorePercent.feeder, digits: 1 },
  { label: 'latency p50 ms', pick: (r) => r.latencyMs.p50, digits: 2, ratio: true },
  { label: 'latency p99 ms', pick: (r) => r.latencyMs.p99, digits: 2, ratio: true },
  { label: 'latency max ms', pick: (r) => r.latencyMs.max, digits: 1 },
  { label: 'publish errors', pick: (r) => feederStats(r)?.errors, digits: 0 },
  { label: 'client errors', pick: (r) => r.errors, digits: 0 },
  { label: 'disconnects', pick: (r) => r.disconnects, digits: 0 },
  { label: 'machine busy %', pick: (r) => r.machine.busyPercent, digits: 0 },
];

export function formatPublishTable(result: PublishResult): string {
  const paths = Object.keys(result.paths) as PublishPath[];
  const runs = paths.map((p) => result.paths[p] as TargetResult);
  const base = result.paths.plain;
  const { args } = result;
  const lines = [
    `rx-streamer bench, publish: ${result.description}, window ${args.durationS} s after ${args.warmupS} s warm-up, ` +
      `server node options: ${args.nodeArgs.join(' ') || 'none'}`,
    `revision ${result.revision}, node ${result.host.node}, ${result.host.cpus} × ${result.host.cpuModel}, ` +
      `load average at start ${result.host.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}`,
    '',
    ''.padEnd(28) + paths.map((p) => p.padStart(12)).join(''),
  ];
  for (const row of ROWS) {
    lines.push(
      row.label.padEnd(28) + runs.map((r) => show(row.pick(r), row.digits).padStart(12)).join(''),
    );
    if (row.ratio && base) {
      const b = row.pick(base);
      lines.push(
        '  × plain'.padEnd(28) +
          runs
            .map((r) => {
              const a = row.pick(r);
              return (
                typeof a === 'number' && typeof b === 'number' && b > 0
                  ? `${(a / b).toFixed(2)}×`
                  : '-'
              ).padStart(12);
            })
            .join(''),
      );
    }
  }
  lines.push('');
  for (const p of paths) lines.push(`${p.padEnd(8)}${MEANING[p]}`);
  if (base) {
    const cost = (r: TargetResult) => perPublishUs(r.cpu.seconds, r);
    const onPaths = paths.filter((p) => p !== 'plain');
    if (onPaths.length > 0)
      lines.push(
        `history on / off, server CPU per publish (target ≤ ${TARGET}×): ` +
          onPaths
            .map((p) => `${p} ${(cost(result.paths[p] as TargetResult) / cost(base)).toFixed(2)}×`)
            .join(', '),
      );
  }
  for (const [i, r] of runs.entries())
    for (const w of r.warnings) lines.push(`WARNING (${paths[i] ?? ''}): ${w}`);
  return lines.join('\n');
}
