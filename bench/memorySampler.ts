// The server's resident memory, read from /proc/<pid>/status on a timer (one
// process, read directly: the tree walk of procStats.ts costs too much every
// 20 ms), with the kernel's own high-water mark beside it, so that a peak
// between two samples is not missed; and the lines it prints that tell of its
// GC (--trace-gc-nvp) and of the clients it dropped.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';

export const MB = 1024 * 1024;

export interface RssReading {
  /** VmRSS in bytes. */
  readonly rss: number;
  /** VmHWM in bytes: the largest VmRSS since the start or the last resetPeak(). */
  readonly hwm: number;
}

export function readRss(pid: number): RssReading | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

/**
 * Resets VmHWM to the current VmRSS (`echo 5 > /proc/<pid>/clear_refs`, allowed
 * for one's own child); false where the kernel refuses, and the sampled peak is
 * all there is.
 */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface Sample {
  /** Milliseconds since the round's origin (just before the server was started). */
  readonly t: number;
  readonly rss: number;
}

export interface Sampler {
  readonly samples: Sample[];
  stop(): void;
}

/** Reads the RSS every `everyMs`, timestamped with when the read happened, not when it was due. */
export function sampleRss(pid: number, origin: number, everyMs: number): Sampler {
  const samples: Sample[] = [];
  const read = () => {
    const reading = readRss(pid);
    if (reading) samples.push({ t: performance.now() - origin, rss: reading.rss });
  };
  read();
  const timer = setInterval(read, everyMs);
  return { samples, stop: () => clearInterval(timer) };
}

export function between(samples: readonly Sample[], fromMs: number, toMs: number): Sample[] {
  return samples.filter((s) => s.t >= fromMs && s.t <= toMs);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return NaN;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface Line {
  /** Milliseconds since the round's origin, when the line arrived. */
  readonly t: number;
  readonly text: string;
}

/** The lines of `stream` that `keep` accepts, timestamped as they arrive. */
export function watchLines(stream: Readable, origin: number, keep: RegExp): Line[] {
  const lines: Line[] = [];
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    const t = performance.now() - origin;
    for (const text of parts) if (keep.test(text)) lines.push({ t, text });
  });
  return lines;
}

/** What a server run with --trace-gc --trace-gc-nvp prints for each GC. */
export const GC_LINE = / gc=\w+ /;

export interface GcEvent {
  readonly t: number;
  /** V8's short name: `s` scavenge, `mc` mark-compact, `ms` minor mark-sweep. */
  readonly kind: string;
  readonly pauseMs: number;
  /** Bytes moved to old space. */
  readonly promoted: number;
}

export function gcEvent({ t, text }: Line): GcEvent {
  return {
    t,
    kind: / gc=(\w+)/.exec(text)?.[1] ?? '',
    pauseMs: Number(/ pause=([\d.]+)/.exec(text)?.[1] ?? 0),
    promoted: Number(/ promoted=(\d+)/.exec(text)?.[1] ?? 0),
  };
}

export interface GcSums {
  readonly scavenges: number;
  readonly scavengePauseMs: number;
  /** Full GCs (mark-compact). */
  readonly fullGcs: number;
  readonly fullGcPauseMs: number;
  /** Promoted to old space by the scavenges. */
  readonly promotedMb: number;
}

export function sumGc(events: readonly GcEvent[], fromMs: number, toMs: number): GcSums {
  const sums = { scavenges: 0, scavengePauseMs: 0, fullGcs: 0, fullGcPauseMs: 0, promotedMb: 0 };
  for (const e of events) {
    if (e.t < fromMs || e.t > toMs) continue;
    if (e.kind === 'mc') {
      sums.fullGcs++;
      sums.fullGcPauseMs += e.pauseMs;
    } else {
      sums.scavenges++;
      sums.scavengePauseMs += e.pauseMs;
      sums.promotedMb += e.promoted / MB;
    }
  }
  return sums;
}
