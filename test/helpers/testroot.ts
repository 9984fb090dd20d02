// The Debian unstable root with compositors that offer ext-image-copy-capture-v1
// (scripts/build-wayland-testroot.sh), shared by the Wayland tests: built once per test process
// (a first build takes minutes; reuse is instant), its progress streamed to stderr as it comes.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** A first build of the unstable root takes minutes (about 900 MB from the mirror); reuse is instant. */
export const ROOT_BUILD_TIMEOUT_MS = 900_000;
let unstableRootPromise: Promise<string | { skip: string }> | undefined;

/**
 * The Debian unstable root (scripts/build-wayland-testroot.sh), built once per run; the script's
 * progress is streamed to stderr as it comes. A skip reason when the suite cannot be had here.
 */
export function unstableRoot(): Promise<string | { skip: string }> {
  unstableRootPromise ??= new Promise((resolve, reject) => {
    const child = spawn('bash', ['scripts/build-wayland-testroot.sh'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), ROOT_BUILD_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 2) resolve({ skip: `the Debian unstable root cannot be had: ${stderr.trim().split('\n').pop()}` });
      else if (code !== 0) reject(new Error(`scripts/build-wayland-testroot.sh failed (${code ?? signal}): ${stderr.slice(-2000)}`));
      else resolve(stdout.trim().split('\n').pop()!);
    });
  });
  return unstableRootPromise;
}

/** The root's "name version" record (written by the build script from dpkg-query inside it). */
export function rootPackages(root: string): Map<string, string> {
  const path = `${root}/.deskcast-packages`;
  const lines = existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : [];
  return new Map(lines.map((l) => l.split(' ') as [string, string]));
}

/** Debian version "1.10.1-2" ≥ "1.10"? (upstream part, numerically) */
export function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.replace(/^\d+:/, '').split(/[-~+]/)[0]!.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < b.length; i++) {
    if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i]!;
  }
  return true;
}
