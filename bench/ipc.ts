// Messages between the benchmark runner and the processes it forks (clients,
// feeder, floor); each child receives its settings as one JSON argument.
import type { HistogramData } from './histogram.js';

export interface ClientPlan {
  readonly host: string;
  readonly port: number;
  readonly epsClients: number;
  readonly detailClients: number;
  /** `/subscribe/details/<id>`: every detail client asks for the same popular id. */
  readonly detailPath: string;
  /** Connections opened at once while connecting. */
  readonly connectBatch: number;
}

export interface ClientSnapshot {
  /** Events received per eps connection since it connected (the `:ok` preamble included). */
  readonly epsEvents: number[];
  /** The same for detail connections. */
  readonly detailEvents: number[];
  readonly bytes: number;
  readonly latency: HistogramData;
  /** Socket errors and responses that were not 200. */
  readonly errors: number;
  /** Connections the server closed. */
  readonly disconnects: number;
}

export type ToClients =
  { readonly type: 'snapshot'; readonly resetLatency: boolean } | { readonly type: 'close' };

export type FromClients =
  | {
      readonly type: 'connected';
      readonly ok: number;
      readonly failed: number;
      readonly firstError?: string;
    }
  | { readonly type: 'snapshot'; readonly snapshot: ClientSnapshot };

export interface FeederPlan {
  /** The build output whose demo generator makes the traffic. */
  readonly dist: string;
  readonly redisUrl: string;
  readonly rate: number;
  readonly seed: number;
  readonly tickMs: number;
}

export interface FloorPlan {
  readonly dist: string;
  readonly rate: number;
  readonly seed: number;
  readonly tickMs: number;
  readonly epsIntervalMs: number;
}

export interface FeedStats {
  readonly uses: number;
  readonly errors: number;
}

export type FromFeeder =
  { readonly type: 'ready' } | { readonly type: 'stats'; readonly stats: FeedStats };

export type FromFloor =
  | { readonly type: 'listening'; readonly port: number }
  | {
      readonly type: 'stats';
      readonly stats: FeedStats & { readonly connections: number; readonly maxBuffered: number };
    };

export type StatsRequest = { readonly type: 'stats' } | { readonly type: 'stop' };

/** The child's settings, passed by the runner as the first argument. */
export function planFromArgv<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error('expected the plan as a JSON argument');
  return JSON.parse(raw) as T;
}

export function send(message: FromClients | FromFeeder | FromFloor): void {
  process.send?.(message);
}
