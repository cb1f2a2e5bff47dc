// An SSE or POST request from a chosen local address (127.0.0.2, …), so tests
// can play several client IPs over real loopback sockets.
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

export interface StreamFrom {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  text(): string;
  isEnded(): boolean;
  ended(): Promise<void>;
  close(): void;
}

export function streamFrom(
  url: string,
  localAddress: string,
  headers: Record<string, string> = {},
): Promise<StreamFrom> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, headers, agent: false });
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      let done = false;
      const waiters: (() => void)[] = [];
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      const finish = () => {
        done = true;
        for (const w of waiters.splice(0)) w();
      };
      res.once('end', finish);
      res.once('close', finish);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => body,
        isEnded: () => done,
        ended: () => (done ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
        close: () => req.destroy(),
      });
    });
    req.end();
  });
}

export function postFrom(
  url: string,
  localAddress: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', localAddress, headers, agent: false });
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
    });
    req.end();
  });
}
