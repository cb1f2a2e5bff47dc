// CPU time and resident memory of a process and all its descendants (cluster
// workers included), and the whole machine's busy time, read from /proc.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface StatLine {
  readonly ppid: number;
  /** user + system CPU seconds of all the process's threads. */
  readonly cpuSeconds: number;
}

function readStat(pid: number): StatLine | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Field 3 (state) is fields[0]; ppid is field 4, utime 14, stime 15.
  return {
    ppid: Number(fields[1]),
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
  };
}

/** The process and every live descendant, found through each process's parent id. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** user + system CPU seconds of the tree's live processes. */
export function treeCpuSeconds(root: number): number {
  let sum = 0;
  for (const pid of processTree(root)) sum += readStat(pid)?.cpuSeconds ?? 0;
  return sum;
}

/** Resident memory of the tree in bytes (VmRSS summed; shared pages count once per process). */
export function treeRssBytes(root: number): number {
  let sum = 0;
  for (const pid of processTree(root)) {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) sum += Number(match[1]) * 1024;
    } catch {
      // The process ended between listing and reading.
    }
  }
  return sum;
}

export interface MachineCpu {
  /** Seconds all cores spent busy (not idle, not waiting on I/O). */
  readonly busySeconds: number;
  readonly cores: number;
}

export function machineCpu(): MachineCpu {
  const text = readFileSync('/proc/stat', 'utf8');
  // user nice system idle iowait irq softirq steal; guest time is already in user.
  const first = text.slice(0, text.indexOf('\n')).trim().split(/\s+/).slice(1, 9).map(Number);
  const total = first.reduce((a, b) => a + b, 0);
  const idle = (first[3] ?? 0) + (first[4] ?? 0);
  const cores = text.split('\n').filter((l) => /^cpu\d+ /.test(l)).length;
  return { busySeconds: (total - idle) / CLOCK_TICKS, cores };
}
