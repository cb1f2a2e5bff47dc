// A producer of site-stream messages for tests where Redis goes away under it (a
// failover): it POSTs `{n}` one after another and tries each again until it is
// taken (202), as a real producer would, and tells what a client that follows
// the site should have received of it.
import { compareEntryIds } from '../../src/sources/SiteHistory.js';

export interface SiteProducer {
  /** Each message taken, with the entry id the 202 answered. */
  readonly accepted: readonly { readonly n: number; readonly id: string }[];
  /** Each attempt refused (an HTTP error, or no answer), tried again after. */
  readonly refused: readonly { readonly n: number; readonly at: number; readonly answer: string }[];
  /** Stops; a message not taken by then is given up. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function produceSiteMessages(baseUrl: string, site: string, topic = 't'): SiteProducer {
  const accepted: { n: number; id: string }[] = [];
  const refused: { n: number; at: number; answer: string }[] = [];
  let producing = true;
  const post = async (n: number): Promise<boolean> => {
    const at = Date.now();
    try {
      const res = await fetch(`${baseUrl}/datastream/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ site, topic, data: { n } }),
        signal: AbortSignal.timeout(5_000),
      });
      const body = await res.text();
      if (res.status === 202) {
        accepted.push({ n, id: (JSON.parse(body) as { id: string }).id });
        return true;
      }
      refused.push({ n, at, answer: `${res.status} ${body}` });
    } catch (err) {
      refused.push({ n, at, answer: String(err) });
    }
    return false;
  };
  const loop = (async () => {
    for (let n = 0; producing; n++) {
      while (!(await post(n)) && producing) await sleep(50);
      await sleep(20);
    }
  })();
  return {
    accepted,
    refused,
    async stop() {
      producing = false;
      await loop;
    },
  };
}

/**
 * What is wrong with the frames of the site a client received, against what the
 * producer had taken: each taken entry must come once and in order; another
 * entry may come only from a POST that was refused (its entry may have been
 * added all the same).
 */
export function siteProblems(frames: readonly unknown[], { accepted, refused }: SiteProducer) {
  const got = frames.map((f) => f as { id: string; data: { n: number } });
  const ids = got.map((f) => f.id);
  const taken = new Set(accepted.map(({ id }) => id));
  const tried = new Set(refused.map(({ n }) => n));
  return {
    missing: accepted.filter(({ id }) => !ids.includes(id)),
    repeated: ids.filter((id, i) => ids.indexOf(id) !== i),
    outOfOrder: ids.filter((id, i) => i > 0 && compareEntryIds(ids[i - 1] as string, id) >= 0),
    unexplained: got.filter((f) => !taken.has(f.id) && !tried.has(f.data.n)),
  };
}
