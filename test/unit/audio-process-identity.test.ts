// What --repair uses to decide whether a per-app sink's owner still runs.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isProcessAlive, pidNamespace, processIdentity, processStartTime } from '../../server/audio/processIdentity.js';

describe('processIdentity', () => {
  it('identifies this process', () => {
    const me = processIdentity(process.pid);
    expect(me.startTime).toMatch(/^\d+$/);
    expect(me.pidNamespace).toMatch(/^\d+$/);
    expect(pidNamespace('self')).toBe(me.pidNamespace);
    expect(isProcessAlive(process.pid)).toBe(true);
  });

  it('tells a finished process from a running one, and different processes apart', async () => {
    const child = spawn('sleep', ['30']);
    const pid = child.pid!;
    expect(isProcessAlive(pid)).toBe(true);
    expect(processStartTime(pid)).not.toBeNull();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(isProcessAlive(pid)).toBe(false);
    expect(processStartTime(pid)).toBeNull();
  });

  it('rejects impossible PIDs', () => {
    expect(isProcessAlive(0)).toBe(false);
    expect(isProcessAlive(-1)).toBe(false);
    expect(isProcessAlive(2 ** 31)).toBe(false);
  });
});
