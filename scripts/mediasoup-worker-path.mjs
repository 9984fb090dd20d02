#!/usr/bin/env node
// Where this checkout's mediasoup worker binary is cached (built by
// scripts/build-mediasoup-worker.sh). The cache lives outside the checkout so
// reinstalls, other clones and CI reuse it; the key changes whenever the shim
// subprojects in scripts/mediasoup-worker/ change, so a stale binary is never
// picked up. Run directly it prints the path; the server imports the function.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The only mediasoup version the shims in scripts/mediasoup-worker/ are written for. */
export const SUPPORTED_MEDIASOUP_VERSION = '3.27.1';

/**
 * The checkout holding scripts/mediasoup-worker/: walked up to, so this module
 * also works when a build step copies it elsewhere (e.g. dist/scripts/).
 * @returns {string}
 */
function repoRoot() {
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'scripts', 'mediasoup-worker', 'subprojects'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no scripts/mediasoup-worker/ above ${start}`);
  }
}

/**
 * The installed mediasoup version; throws unless it is the supported one.
 * @returns {string}
 */
export function mediasoupVersion() {
  const pkgPath = path.join(repoRoot(), 'node_modules', 'mediasoup', 'package.json');
  let version;
  try {
    version = JSON.parse(readFileSync(pkgPath, 'utf8')).version;
  } catch (error) {
    throw new Error(`cannot read ${pkgPath} (${/** @type {Error} */ (error).message}): run npm install first`);
  }
  if (version !== SUPPORTED_MEDIASOUP_VERSION) {
    throw new Error(
      `node_modules has mediasoup ${version}, but the offline worker build ` +
        `(scripts/mediasoup-worker/) is written for ${SUPPORTED_MEDIASOUP_VERSION} only: ` +
        `pin "mediasoup": "${SUPPORTED_MEDIASOUP_VERSION}" in package.json and run npm install`,
    );
  }
  return version;
}

/** @param {string} dir @param {string} [prefix] @returns {string[]} relative paths, '/'-separated */
function listFiles(dir, prefix = '') {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return listFiles(path.join(dir, entry.name), rel);
    return entry.isFile() ? [rel] : [];
  });
}

/**
 * First 12 hex chars of sha256 over every file under scripts/mediasoup-worker/,
 * sorted by relative path, each hashed as relpath + "\0" + content.
 * @returns {string}
 */
export function mediasoupWorkerCacheKey() {
  const shimDir = path.join(repoRoot(), 'scripts', 'mediasoup-worker');
  const hash = createHash('sha256');
  // Plain code-unit order, not localeCompare: the key must not depend on the locale.
  for (const rel of listFiles(shimDir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    hash.update(rel);
    hash.update('\0');
    hash.update(readFileSync(path.join(shimDir, ...rel.split('/'))));
  }
  return hash.digest('hex').slice(0, 12);
}

/**
 * Absolute path of the cached worker binary for this checkout:
 * ${DESKCAST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deskcast}/mediasoup-worker/<version>-<key>/mediasoup-worker
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string}
 */
export function mediasoupWorkerPath(env = process.env) {
  const cacheDir =
    env.DESKCAST_CACHE_DIR ||
    path.join(env.XDG_CACHE_HOME || path.join(env.HOME || homedir(), '.cache'), 'deskcast');
  return path.resolve(
    cacheDir,
    'mediasoup-worker',
    `${mediasoupVersion()}-${mediasoupWorkerCacheKey()}`,
    'mediasoup-worker',
  );
}

function invokedDirectly() {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false; // argv[1] is no file: imported from a REPL, `node -e` or the like
  }
}

if (invokedDirectly()) {
  try {
    process.stdout.write(`${mediasoupWorkerPath()}\n`);
  } catch (error) {
    process.stderr.write(`[deskcast] ${/** @type {Error} */ (error).message}\n`);
    process.exit(1);
  }
}
