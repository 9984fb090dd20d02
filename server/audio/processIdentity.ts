// Identifies a process well enough to tell "still running" from "gone" or "PID reused".
import { readFileSync, readlinkSync } from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22), or null if unreadable. */
  startTime: string | null;
  /** Inode of the PID namespace (/proc/<pid>/ns/pid), or null if unreadable. */
  pidNamespace: string | null;
}

export function processIdentity(pid: number): ProcessIdentity {
  return { pid, startTime: processStartTime(pid), pidNamespace: pidNamespace(pid) };
}

/** True while a process with this PID exists and is not a zombie (EPERM still means it exists). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return processState(pid) !== 'Z';
}

/** One-letter state from /proc/<pid>/stat (R, S, D, Z, ...), or null if unreadable. */
function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ..." — comm may contain spaces and parentheses: split after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[19]; // field 22 overall
    return start && /^\d+$/.test(start) ? start : null;
  } catch {
    return null;
  }
}

export function pidNamespace(pid: number | 'self' = 'self'): string | null {
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/pid`));
    return m?.[1] ?? null;
  } catch {
    return null;
  }
}
