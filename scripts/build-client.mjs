// Bundles the viewer page into dist/client (index.html + assets/viewer.{js,css}).
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'client');
await mkdir(join(out, 'assets'), { recursive: true });
await build({
  entryPoints: [join(root, 'client', 'src', 'main.ts')],
  outfile: join(out, 'assets', 'viewer.js'),
  bundle: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
await copyFile(join(root, 'client', 'index.html'), join(out, 'index.html'));
await copyFile(join(root, 'client', 'viewer.css'), join(out, 'assets', 'viewer.css'));
console.log('[deskcast] client bundled into dist/client');
