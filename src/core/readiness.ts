// Whether a part of the server can serve now: what /readyz answers, gathered
// from the sources, the protocols and the server itself.

/** What /readyz answers for a part of the server. */
export interface Readiness {
  readonly ready: boolean;
  /** Why not, when not ready. */
  readonly reason?: string;
}
