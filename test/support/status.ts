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
