import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { painterBinary } from '../test/helpers/xvfb.js';

export function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}`;
}

export function summarize(samples: number[]): { n: number; median: number; p95: number; min: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const median = sorted.length % 2 ? at(0.5) : ((sorted[sorted.length / 2 - 1] ?? NaN) + (sorted[sorted.length / 2] ?? NaN)) / 2;
  const round = (x: number): number => Math.round(x * 10) / 10;
  return { n: sorted.length, median: round(median), p95: round(at(0.95)), min: round(sorted[0] ?? NaN), max: round(sorted.at(-1) ?? NaN) };
}

/** Prints the JSON result, then the one-line summary. */
export function report(name: string, result: Record<string, unknown>, summary: string): void {
  console.log(JSON.stringify({ bench: name, machine: machine(), date: new Date().toISOString(), ...result }, null, 2));
  console.log(`${name}: ${summary}`);
}

export { painterBinary };

/**
 * Moving desktop content for the encode benchmarks: a full-screen `top` refreshing 5x a second,
 * a scrolling text flood, and the background changing colour every second. stop() ends it.
 */
export function startMovingContent(xvfb: { display: string; paint(color: string): Promise<void> }): { stop(): void } {
  const env = { ...process.env, DISPLAY: xvfb.display };
  const clients = [
    spawn('xterm', ['-geometry', '160x24+0+0', '-e', 'top', '-d', '0.2'], { env, stdio: 'ignore' }),
    spawn('xterm', ['-geometry', '100x20+200+380', '-e', 'sh', '-c', 'while :; do date +%s.%N; ls -l /usr/lib | head -40; sleep 0.05; done'], { env, stdio: 'ignore' }),
  ];
  const colors = ['#204060', '#602040', '#406020', '#303030'];
  let c = 0;
  const colorTimer = setInterval(() => void xvfb.paint(colors[c++ % colors.length]!).catch(() => undefined), 1000);
  return {
    stop: () => {
      clearInterval(colorTimer);
      for (const child of clients) child.kill('SIGTERM');
    },
  };
}

/** A long-lived painter (test/helpers/x11-painter.c, built on first use): paint() resolves with the Unix ms the X server finished the paint. */
export async function startPainter(display: string): Promise<{ paint(rgbHex: string): Promise<number>; close(): void }> {
  const child = spawn(painterBinary(), [], { env: { ...process.env, DISPLAY: display }, stdio: ['pipe', 'pipe', 'inherit'] });
  let pending: ((ms: number) => void) | undefined;
  let buffer = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      pending?.(Number(line));
      pending = undefined;
    }
  });
  return {
    paint: (rgbHex) =>
      new Promise<number>((resolve) => {
        pending = resolve;
        child.stdin!.write(`${rgbHex.replace('#', '')}\n`);
      }),
    close: () => void child.kill(),
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (USER_HZ = 100)
}
