// A raw SSE reader over a real HTTP socket: keeps the exact bytes received, so
// tests can check the wire format byte for byte, and parses them into events.
import { request } from 'node:http';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';

export interface SseEvent {
  readonly event: string | undefined;
  readonly data: string;
}

export interface RawSse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly res: IncomingMessage;
  readonly req: ClientRequest;
  /** Everything received so far, as text. */
  text(): string;
  /** Message blocks received so far (a cheap running count for large volumes). */
  count(): number;
  /** Data-bearing events received so far (comments and retry lines left out). */
  events(): SseEvent[];
  /** Resolves once `predicate` holds for the events (polls; rejects after timeoutMs). */
  waitFor(
    predicate: (events: SseEvent[], text: string) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  /** Resolves when the server ends the stream. */
  ended(): Promise<void>;
  close(): void;
}

export function parseSse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6);
      else if (line.startsWith('data:')) data.push(line.slice(5));
    }
    if (data.length > 0) out.push({ event, data: data.join('\n') });
  }
  return out;
}

export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function openSse(
  url: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<RawSse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} });
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let ended = false;
      // Counts "\n\n" block ends across chunk boundaries, skipping the ":ok" preamble.
      let blocks = 0;
      let lastByte = 0;
      const endWaiters: (() => void)[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        for (let i = 0; i < c.length; i++) {
          const b = c[i] as number;
          if (b === 10 && lastByte === 10) blocks++;
          lastByte = b;
        }
      });
      const finish = () => {
        ended = true;
        for (const w of endWaiters.splice(0)) w();
      };
      res.once('end', finish);
      res.once('close', finish);
      const text = () => Buffer.concat(chunks).toString('utf8');
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        res,
        req,
        text,
        count: () => Math.max(0, blocks - 1),
        events: () => parseSse(text()),
        waitFor: (predicate, timeoutMs = 5_000) =>
          waitUntil(() => predicate(parseSse(text()), text()), timeoutMs, 'SSE events'),
        ended: () => (ended ? Promise.resolve() : new Promise<void>((r) => endWaiters.push(r))),
        close: () => req.destroy(),
      });
    });
    req.end();
  });
}

export async function getJson<T = unknown>(
  url: string,
  method = 'GET',
): Promise<{ status: number; headers: Headers; body: T }> {
  const res = await fetch(url, { method });
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}
