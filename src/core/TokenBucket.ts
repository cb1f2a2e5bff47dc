// A rate as a bucket of tokens: `burst` at most, refilled at `ratePerS`; taking
// more than it holds is refused. No timer: the refill is worked out when asked.

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number = ratePerS,
    now: number = Date.now(),
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** Takes `n` tokens if it holds them. */
  take(n = 1, now = Date.now()): boolean {
    this.refill(now);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Whether it is full again (nothing taken that has not been refilled): safe to forget. */
  full(now = Date.now()): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.ratePerS) / 1000);
    this.at = now;
  }
}
