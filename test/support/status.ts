// The status document as SPEC §1 gives it, written out independently of the
// server's own types so that the tests notice if the server drifts from it.
export interface StatusDocument {
  node: string;
  status: string;
  reported_at: number;
  startup_time: number;
  msgs_broadcast: number;
  connections: {
    request_path: string;
    namespace: string;
    created_at: number;
    client_ip: string;
    user_agent: string;
    msgs_sent: number;
  }[];
}

/** The operator's token the tests' servers are started with, for the full status document. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** The full status document (an operator's view), with the token. */
export async function adminStatus<T = StatusDocument>(url: string): Promise<T> {
  const res = await fetch(`${url}/admin/status.json`, {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  if (res.status !== 200) throw new Error(`status.json answered ${res.status}`);
  return (await res.json()) as T;
}
