// A copy of the project as a clean checkout has it (no dist/, no installed
// packages of its own: the project's node_modules linked in), for tests that
// build in it — `npm pack`, `npm start` — without touching the dist/ other
// tests are running.
import { cpSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Not in a clean checkout, or not the project's to ship. */
const NOT_COPIED = new Set(['node_modules', 'dist', '.git', '.ci-out']);

/** Copies the project to `<dir>/project` (a new temp dir unless given); returns its path. */
export function cleanCheckout(dir = mkdtempSync(join(tmpdir(), 'rx-streamer-checkout-'))): string {
  const project = join(dir, 'project');
  cpSync(ROOT, project, {
    recursive: true,
    filter: (path) => !NOT_COPIED.has(relative(ROOT, path).split(sep)[0] ?? ''),
  });
  symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
  return project;
}
