// Polls an instance's /readyz on a clock through a test (a failover, a restart)
// and keeps every answer, to check that each was one a load balancer can act on
// and to tell which reasons the instance gave, and when.

/** One /readyz answer; status 0 when none came within the timeout. */
export interface ReadyzAnswer {
  readonly at: number;
  readonly status: number;
  readonly body: string;
}

export interface ReadyzPoller {
  readonly answers: readonly ReadyzAnswer[];
  /** Answers that are neither 200 `{"status":"OK"}` nor 503 with a JSON reason. */
  unexpected(): ReadyzAnswer[];
  /** Each distinct answer, how often, and when first and last (ms after `since`). */
  summary(since: number): string[];
  stop(): Promise<void>;
}

export function pollReadyz(baseUrl: string, everyMs = 100, timeoutMs = 2_000): ReadyzPoller {
  const answers: ReadyzAnswer[] = [];
  let polling = true;
  const loop = (async () => {
    while (polling) {
      const at = Date.now();
      try {
        const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
        answers.push({ at, status: res.status, body: await res.text() });
      } catch (err) {
        answers.push({ at, status: 0, body: String(err) });
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    answers,
    unexpected: () => answers.filter((a) => !expected(a)),
    summary(since) {
      const seen = new Map<string, { n: number; first: number; last: number }>();
      for (const a of answers) {
        const key = `${a.status} ${a.body}`;
        const s = seen.get(key) ?? { n: 0, first: a.at - since, last: 0 };
        seen.set(key, { ...s, n: s.n + 1, last: a.at - since });
      }
      return [...seen].map(([key, s]) => `${key} ×${s.n} (${s.first}…${s.last} ms)`);
    },
    async stop() {
      polling = false;
      await loop;
    },
  };
}

function expected(a: ReadyzAnswer): boolean {
  let body: { status?: unknown; reason?: unknown };
  try {
    body = JSON.parse(a.body) as typeof body;
  } catch {
    return false;
  }
  if (a.status === 200) return body.status === 'OK';
  return a.status === 503 && typeof body.reason === 'string' && body.reason !== '';
}
