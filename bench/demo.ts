// The emojitracker-like generator the server ships with, loaded from the build
// output so the benchmark drives exactly what was built.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as DemoFeed from '../src/protocols/emojitrack/demoFeed.js';

export type DemoModule = typeof DemoFeed;

/** The repository root, as seen from bench/ (the runner); children get it in their plan. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where builds keep the generator: the emojitrack protocol's folder, or (older builds) sources/. */
const DEMO_FILES = [
  ['protocols', 'emojitrack', 'demoFeed.js'],
  ['sources', 'demoFeed.js'],
];

export async function loadDemo(dist: string): Promise<DemoModule> {
  const file = DEMO_FILES.map((parts) => join(dist, ...parts)).find((f) => existsSync(f));
  if (!file) throw new Error(`${join(dist, ...DEMO_FILES[0]!)} is missing: run npm run build`);
  return (await import(pathToFileURL(file).href)) as DemoModule;
}

/** The id the generator picks most often, found by sampling rather than assumed. */
export function mostPopularId(demo: DemoModule, seed: number): string {
  const random = demo.seededRandom(seed ^ 0x9e3779b9);
  const counts = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    const id = demo.pickId(random);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  let best = '';
  let bestCount = -1;
  for (const [id, n] of counts) if (n > bestCount) [best, bestCount] = [id, n];
  return best;
}
