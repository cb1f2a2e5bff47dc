// The status document of SPEC §1: served at /admin/status.json and written to
// the Redis status hash, so admin dashboards can collect every node.
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
  readonly connections: ConnectionStatus[];
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export function statusReport(
  hub: Hub,
  node: string,
  startedAt: number,
  now = Date.now(),
): StatusReport {
  const connections: ConnectionStatus[] = [];
  for (const c of hub.connections) {
    connections.push({
      request_path: c.info.requestPath,
      namespace: c.info.namespace,
      created_at: seconds(c.info.createdAt),
      client_ip: c.info.clientIp,
      user_agent: c.info.userAgent,
      msgs_sent: c.msgsSent,
      ...c.describe?.(),
    });
  }
  return {
    node,
    status: 'OK',
    reported_at: seconds(now),
    startup_time: seconds(startedAt),
    msgs_broadcast: hub.stats.msgsBroadcast,
    connections,
  };
}
