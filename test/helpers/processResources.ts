import { readdirSync, readlinkSync } from 'node:fs';

/** Open file descriptors of this process: fd number → what it points at. */
export function openFds(): Map<string, string> {
  return new Map(
    readdirSync('/proc/self/fd').map((fd) => {
      try {
        return [fd, readlinkSync(`/proc/self/fd/${fd}`)];
      } catch {
        return [fd, '(closed)'];
      }
    }),
  );
}

/** fds open now that were not open (with the same target) in `before`. */
export function fdsAddedSince(before: Map<string, string>): string[] {
  return [...openFds()].filter(([fd, target]) => before.get(fd) !== target && target !== '(closed)').map(([fd, t]) => `${fd} -> ${t}`);
}
