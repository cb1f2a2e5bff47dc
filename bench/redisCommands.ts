// Redis's own count of the commands it ran (INFO commandstats), and what a
// phase of a run cost as the difference of two readings.
import type { Redis } from 'ioredis';

export interface CommandStat {
  readonly calls: number;
  readonly usec: number;
}

/** Calls and the microseconds Redis counted for them, by command (`evalsha`, `xrange`…). */
export async function commandStats(redis: Redis): Promise<Record<string, CommandStat>> {
  const out: Record<string, CommandStat> = {};
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (match) out[match[1] as string] = { calls: Number(match[2]), usec: Number(match[3]) };
  }
  return out;
}

/** The commands run between two readings, less the INFO that took the first. */
export function commandDelta(
  before: Record<string, CommandStat>,
  after: Record<string, CommandStat>,
): Record<string, CommandStat> {
  const out: Record<string, CommandStat> = {};
  for (const [name, stat] of Object.entries(after)) {
    const calls = stat.calls - (before[name]?.calls ?? 0) - (name === 'info' ? 1 : 0);
    if (calls > 0) out[name] = { calls, usec: stat.usec - (before[name]?.usec ?? 0) };
  }
  return out;
}
