import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** A separate deskcast-like Node process running `code` (ESM, TypeScript through tsx). */
export interface TsxChild {
  child: ChildProcess;
  /** Everything it has printed on stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** SIGKILL (a crash: no clean-up runs) and wait until it has exited. */
  crash(): Promise<void>;
}

export function spawnTsxChild(code: string): TsxChild {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    crash: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
