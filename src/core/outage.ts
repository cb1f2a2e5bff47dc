// An outage as an operator wants it logged: one warning when it starts, the
// tries in between at debug, and one line when it is over with how long it
// lasted — whatever the number of tries. The caller logs; this keeps the count.

export interface OutageEnd {
  /** From the first failure to now. */
  readonly downMs: number;
  /** Failures in the outage. */
  readonly tries: number;
  /** What it last failed with. */
  readonly error: string;
}

export class Outage {
  private since: number | undefined;
  private tries = 0;
  private lastError = '';

  constructor(private readonly now: () => number = Date.now) {}

  get ongoing(): boolean {
    return this.since !== undefined;
  }

  /** Notes a failure; true when it starts an outage (the one to warn about). */
  failed(error: unknown): boolean {
    this.lastError = error instanceof Error ? error.message : String(error);
    this.tries++;
    if (this.since !== undefined) return false;
    this.since = this.now();
    return true;
  }

  /** How the outage went, when one was under way (the line to log); it is over. */
  end(): OutageEnd | undefined {
    if (this.since === undefined) return undefined;
    const ended = { downMs: this.now() - this.since, tries: this.tries, error: this.lastError };
    this.since = undefined;
    this.tries = 0;
    return ended;
  }
}
