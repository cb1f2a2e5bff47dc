// The recovery workload's table: how the clients came back (caught up, with a
// loss or a duplicate, unrecovered, failed), how long catching up took, what
// was checked wrong, and what the storm cost the server and Redis.
import type { RecoveryResult } from './recovery.js';
import { show } from './report.js';
import type { ResultHead } from './report.js';

export interface RecoveryBenchResult extends ResultHead {
  readonly recovery: RecoveryResult;
}

/** Commands listed one by one (the busiest); the rest are in the JSON. */
const COMMANDS_LISTED = 12;

export function formatRecoveryTable(result: RecoveryBenchResult): string {
  const r = result.recovery;
  const { report } = r;
  const { args } = result;
  const rows: [string, number | undefined, number][] = [
    ['clients connected', r.connected, 0],
    ['caught up (no loss, no dup)', report.caughtUpMs.length, 0],
    ['caught up with loss or dup', report.caughtUpDirty, 0],
    ['unrecovered', report.unrecovered, 0],
    ['recover refused (error)', report.refused, 0],
    ['failed to reconnect', report.failed, 0],
    ['catch-up p50 ms', r.caughtUpMs.p50, 1],
    ['catch-up p90 ms', r.caughtUpMs.p90, 1],
    ['catch-up p99 ms', r.caughtUpMs.p99, 1],
    ['catch-up max ms', r.caughtUpMs.max, 1],
    ['catch-up after 101 p50 ms', r.afterOpenMs.p50, 1],
    ['catch-up after 101 p99 ms', r.afterOpenMs.p99, 1],
    ['to 101 p50 ms', r.upgradedMs.p50, 1],
    ['to 101 p99 ms', r.upgradedMs.p99, 1],
    ['to recover ack p50 ms', r.ackMs.p50, 1],
    ['to recover ack p99 ms', r.ackMs.p99, 1],
    ['storm until all back s', r.stormS, 2],
    ['missed msgs/client (mean)', report.caughtUp > 0 ? report.replayed / report.caughtUp : NaN, 1],
    ['storm: lost', report.storm.lost, 0],
    ['storm: duplicates', report.storm.duplicates, 0],
    ['storm: gap notices', report.storm.gapNotices, 0],
    ['storm: control errors', report.storm.controlErrors, 0],
    ['storm: msgs without offset', report.storm.noOffset, 0],
    ['steady: lost', report.steady.lost, 0],
    ['steady: duplicates', report.steady.duplicates, 0],
    ['behind the top at end', report.behindAtEnd, 0],
    ['offsets missing at end', report.missingAtEnd, 0],
    ['disconnects', report.disconnects, 0],
    ['server CPU s (storm)', r.cpuS.server, 3],
    ['server CPU % of a core', r.corePercent.server, 1],
    ['server CPU µs/client', (r.cpuS.server * 1e6) / (report.resolved || NaN), 0],
    ['redis CPU s (storm)', r.cpuS.redis, 3],
    ['redis CPU % of a core', r.corePercent.redis, 1],
    ['clients CPU % of a core', r.corePercent.clients, 1],
    ['publisher CPU % of a core', r.corePercent.publisher, 1],
    ['machine busy %', r.machineBusyPercent, 0],
    ['other load % of a core', r.otherCorePercent, 0],
    ['published in storm', r.publishedInStorm, 0],
    ['publish errors', r.publishErrors, 0],
    ['redis commands (storm)', r.redisCalls, 0],
    ['redis commands/client', r.redisCalls / (report.resolved || NaN), 1],
  ];
  const lines = [
    `rx-streamer bench, recovery: ${result.description}, ${args.warmupS} s of traffic before the drop, ` +
      `workers ${args.workers}, client procs ${args.clientProcs}, server node options: ${args.nodeArgs.join(' ') || 'none'}`,
    `revision ${result.revision}, node ${result.host.node}, ${result.host.cpus} × ${result.host.cpuModel}, ` +
      `load average at start ${result.host.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}`,
    `server settings: ${Object.entries(r.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    '',
    ''.padEnd(30) + 'rx'.padStart(12),
    ...rows.map(
      ([label, value, digits]) => `${label.padEnd(30)}${show(value, digits).padStart(12)}`,
    ),
  ];
  const busiest = Object.entries(r.redisCommands)
    .sort((a, b) => b[1].calls - a[1].calls)
    .slice(0, COMMANDS_LISTED);
  for (const [name, stat] of busiest)
    lines.push(
      `  ${name.padEnd(28)}${show(stat.calls, 0).padStart(12)} calls ${show(stat.usec / 1000, 1).padStart(9)} ms`,
    );
  for (const w of r.warnings) lines.push(`WARNING: ${w}`);
  return lines.join('\n');
}
