// Writes docs/SETTINGS.md from the settings table; with --check, fails if it is stale.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { settingsMarkdown } from '../server/settings/parseSettings.js';
import { projectRoot } from '../server/util/projectRoot.js';

const target = join(projectRoot, 'docs', 'SETTINGS.md');
const wanted = settingsMarkdown();
if (process.argv.includes('--check')) {
  if (!existsSync(target) || readFileSync(target, 'utf8') !== wanted) {
    console.error('docs/SETTINGS.md is out of date with server/settings/settingsTable.ts: run "npm run docs" and commit it.');
    process.exit(1);
  }
  console.log('[deskcast] docs/SETTINGS.md is up to date');
} else {
  writeFileSync(target, wanted);
  console.log(`[deskcast] wrote ${target}`);
}
