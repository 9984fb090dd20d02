import { cpus, totalmem, release } from 'node:os';

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
