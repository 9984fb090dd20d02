// A network namespace joined to this one by a veth pair, for tests that need a real, shaped
// uplink: `tc … tbf` on the namespace side limits what leaves it (the server's upstream).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ShapedNamespace {
  name: string;
  /** Address of the namespace's end (where the server listens). */
  address: string;
  /** Address of this namespace's end. */
  hostAddress: string;
  /** Spawns a command inside the namespace. */
  spawn(command: string, args: string[], options?: { env?: NodeJS.ProcessEnv; cwd?: string }): ChildProcess;
  close(): Promise<void>;
}

/** Why network namespaces cannot be used here, or '' when they can. */
export async function netnsUnavailableReason(): Promise<string> {
  const probe = `dc-probe-${process.pid}`;
  try {
    await run('ip', ['netns', 'add', probe]);
    await run('ip', ['netns', 'del', probe]);
    await run('tc', ['-V']);
    return '';
  } catch (err) {
    return `ip netns / tc not permitted here: ${(err as Error).message.split('\n')[0]}`;
  }
}

/**
 * A namespace whose egress is shaped to `rateMbit` by tbf (burst 32 kbit; a 100 ms queue, as
 * home uplinks buffer at least that much: with 50 ms two viewers' simultaneous keyframes of
 * noise overflowed it, ~0.7 % loss).
 */
export async function createShapedNamespace(rateMbit: number): Promise<ShapedNamespace> {
  const id = (process.pid % 200) + 20;
  const name = `dc-cap-${process.pid}`;
  const hostIf = `dch${process.pid % 100000}`;
  const nsIf = `dcn${process.pid % 100000}`;
  const hostAddress = `10.213.${id}.1`;
  const address = `10.213.${id}.2`;
  const inNs = (...args: string[]): Promise<unknown> => run('ip', ['netns', 'exec', name, ...args]);
  const close = async (): Promise<void> => {
    await run('ip', ['netns', 'del', name]).catch(() => undefined); // takes its veth end, and so the pair, with it
    await run('ip', ['link', 'del', hostIf]).catch(() => undefined);
  };
  await close(); // leftovers of a crashed run
  try {
    await run('ip', ['netns', 'add', name]);
    await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    await run('ip', ['link', 'set', nsIf, 'netns', name]);
    await run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostIf]);
    await run('ip', ['link', 'set', hostIf, 'up']);
    await inNs('ip', 'addr', 'add', `${address}/30`, 'dev', nsIf);
    await inNs('ip', 'link', 'set', nsIf, 'up');
    await inNs('ip', 'link', 'set', 'lo', 'up');
    // A way back to every address of this namespace: receivers' ICE checks may come from any
    // of them, and mediasoup follows the latest nominated pair.
    await inNs('ip', 'route', 'add', 'default', 'via', hostAddress);
    await inNs('tc', 'qdisc', 'add', 'dev', nsIf, 'root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', '32kbit', 'latency', '100ms');
  } catch (err) {
    await close();
    throw err;
  }
  return {
    name,
    address,
    hostAddress,
    spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', name, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options }),
    close,
  };
}
