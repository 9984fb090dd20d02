import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../util/projectRoot.js';

export class WorkerBinaryMissingError extends Error {
  override name = 'WorkerBinaryMissingError';
}

/**
 * The mediasoup worker binary: `given` (--worker-bin / $MEDIASOUP_WORKER_BIN) if set, else the
 * one scripts/build-mediasoup-worker.sh built and cached outside the checkout.
 */
export async function resolveWorkerBinary(given = ''): Promise<string> {
  const moduleUrl = pathToFileURL(join(projectRoot, 'scripts', 'mediasoup-worker-path.mjs')).href;
  const path = given || ((await import(moduleUrl)) as { mediasoupWorkerPath: () => string }).mediasoupWorkerPath();
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new WorkerBinaryMissingError(
      `The mediasoup worker binary ${path} is missing or not executable. Run "bash scripts/build-mediasoup-worker.sh" ` +
        '(npm start and npm test run it for you), or point --worker-bin (or MEDIASOUP_WORKER_BIN) at a built worker.',
    );
  }
  return path;
}
