// The status document of SPEC §1: served at /admin/status.json and written to
// the Redis status hash, so admin dashboards can collect every node. The list
// of connections is bounded; `connections_total` counts them all.
import type { Connection } from '../fanout/Connection.js';
import type { Hub } from '../fanout/Hub.js';

export interface ConnectionStatus {
  readonly request_path: string;
  readonly namespace: string;
  readonly created_at: number;
  readonly client_ip: string;
  readonly user_agent: string;
  readonly msgs_sent: number;
  /** What the connection's protocol adds (a WebSocket client's channels). */
  readonly [extra: string]: unknown;
}

export interface StatusReport {
  readonly node: string;
  readonly status: 'OK';
  readonly reported_at: number;
  readonly startup_time: number;
  readonly msgs_broadcast: number;
  /** At most the configured number of connections, oldest first. */
  readonly connections: ConnectionStatus[];
  /** Every open connection, listed or not. */
  readonly connections_total: number;
}

export interface StatusReportOptions {
  /** List at most this many connections (ADMIN_MAX_CONNECTIONS); all when unset. */
  readonly maxConnections?: number;
  /** Rewrites each listed connection, e.g. to mask its address (see privacy.ts). */
  readonly view?: (connection: ConnectionStatus) => ConnectionStatus;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** One connection as the status document lists it. */
export function connectionStatus(c: Connection): ConnectionStatus {
  return {
    request_path: c.info.requestPath,
    namespace: c.info.namespace,
    created_at: seconds(c.info.createdAt),
    client_ip: c.info.clientIp,
    user_agent: c.info.userAgent,
    msgs_sent: c.msgsSent,
    ...c.describe?.(),
  };
}

/** The first `max` connections of the hub (the oldest: a Set keeps insertion order). */
export function firstConnections(hub: Hub, max = Infinity): Connection[] {
  const out: Connection[] = [];
  if (max <= 0) return out;
  for (const c of hub.connected()) {
    out.push(c);
    if (out.length >= max) break;
  }
  return out;
}

export function statusReport(
  hub: Hub,
  node: string,
  startedAt: number,
  now = Date.now(),
  options: StatusReportOptions = {},
): StatusReport {
  const view = options.view ?? ((c: ConnectionStatus) => c);
  const connections = firstConnections(hub, options.maxConnections).map((c) =>
    view(connectionStatus(c)),
  );
  return {
    node,
    status: 'OK',
    reported_at: seconds(now),
    startup_time: seconds(startedAt),
    msgs_broadcast: hub.stats.msgsBroadcast,
    connections,
    connections_total: hub.clientCount(),
  };
}
