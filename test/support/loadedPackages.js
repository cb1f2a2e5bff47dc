// Imported (node --import) into a server process under test: as it exits, it
// writes the npm packages it has loaded (those in the CommonJS module cache,
// where an ES module that imports a CommonJS package puts it too) to stderr as
// one line, `loaded packages: a,b,c`.
import { createRequire } from 'node:module';
import process from 'node:process';

const cache = createRequire(import.meta.url).cache;

process.on('exit', () => {
  const names = new Set();
  for (const file of Object.keys(cache)) {
    const parts = file.replaceAll('\\', '/').split('/node_modules/');
    if (parts.length < 2) continue;
    const path = (parts.at(-1) ?? '').split('/');
    names.add(path[0]?.startsWith('@') ? `${path[0]}/${path[1]}` : path[0]);
  }
  process.stderr.write(`loaded packages: ${[...names].sort().join(',')}\n`);
});
