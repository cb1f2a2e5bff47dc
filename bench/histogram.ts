// A fixed-size latency histogram: recording never allocates, and histograms from
// several client processes add up bin by bin.

/** 0.05 ms bins up to 50 ms, then 1 ms bins up to 10 s; later values share the last bin. */
const FINE_BINS = 1000;
const FINE_MS = 0.05;
const COARSE_BINS = 9950;
const BINS = FINE_BINS + COARSE_BINS;

export interface HistogramData {
  readonly counts: number[];
  readonly count: number;
  readonly maxMs: number;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

function binOf(ms: number): number {
  if (ms < FINE_BINS * FINE_MS) return Math.max(0, Math.floor(ms / FINE_MS));
  return Math.min(BINS - 1, FINE_BINS + Math.floor(ms - FINE_BINS * FINE_MS));
}

/** The upper edge of a bin, so a percentile never understates. */
function edgeOf(bin: number): number {
  if (bin < FINE_BINS) return (bin + 1) * FINE_MS;
  return FINE_BINS * FINE_MS + (bin - FINE_BINS + 1);
}

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BINS);
  private count = 0;
  private maxMs = 0;

  record(ms: number): void {
    const bin = binOf(ms);
    this.counts[bin] = (this.counts[bin] as number) + 1;
    this.count++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.maxMs = 0;
  }

  toData(): HistogramData {
    return { counts: Array.from(this.counts), count: this.count, maxMs: this.maxMs };
  }
}

/** Adds histograms from several processes and reads the percentiles. */
export function summarize(parts: readonly HistogramData[]): LatencySummary {
  const counts = new Array<number>(BINS).fill(0);
  let count = 0;
  let max = 0;
  for (const p of parts) {
    for (let i = 0; i < BINS; i++) counts[i] = (counts[i] as number) + (p.counts[i] ?? 0);
    count += p.count;
    max = Math.max(max, p.maxMs);
  }
  const at = (q: number): number => {
    if (count === 0) return NaN;
    const rank = Math.ceil(q * count);
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += counts[i] as number;
      if (seen >= rank) return Math.min(edgeOf(i), max);
    }
    return max;
  };
  return { count, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: count === 0 ? NaN : max };
}
