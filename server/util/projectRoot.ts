import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The server runs both from sources (tests, tsx) and from dist/ (npm start): find the
// checkout by walking up to deskcast's package.json instead of hard-coding "../..".
function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'deskcast') {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find the deskcast checkout (package.json) above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const projectRoot = findProjectRoot();
