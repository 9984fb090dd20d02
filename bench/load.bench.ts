// Load: many real WebRTC receivers against the real server through deskcast's own signaling.
// Receivers (node-datachannel: ICE + DTLS-SRTP, RTP sequence numbers and marker bits counted,
// nothing decoded, no NACK) run in several generator processes; the desktop shows scrolling
// random text so the encoder runs at its full bitrate. At each step: loss over all receivers,
// their frame rate, and mediasoup worker CPU (getResourceUsage deltas); two Chromium viewers
// check that real decoders keep decoding. Once with --workers 1, once with --workers 2.
// Run: npx tsx bench/load.bench.ts   (BENCH_STEPS=25,50,100 to choose the viewer counts)
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import type { DeskcastServer } from '../server/DeskcastServer.js';
import { framesDecoded, launchChromium, openLiveViewer } from '../test/helpers/browser.js';
import { startDeskcast, viewerUrl } from '../test/helpers/deskcast.js';
import { report } from './benchLib.js';

const STEPS = (process.env['BENCH_STEPS'] ?? '25,50,100,150,200').split(',').map(Number);
const WORKER_CONFIGS = (process.env['BENCH_WORKERS'] ?? '1,2').split(',').map(Number);
const GENERATORS = 4;
const MEASURE_S = 10;
const FPS = 30;

interface Generator {
  child: ChildProcess;
  lines: Interface;
  next(): Promise<Record<string, unknown>>;
}

function startGenerator(origin: string, token: string, count: number, name: string): Generator {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/loadGenerator.ts', origin, token, String(count), name], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const queue: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  lines.on('line', (l) => (waiters.length ? waiters.shift()!(l) : queue.push(l)));
  return {
    child,
    lines,
    next: () => new Promise((resolve) => (queue.length ? resolve(JSON.parse(queue.shift()!)) : waiters.push((l) => resolve(JSON.parse(l))))),
  };
}

interface Totals {
  packets: number;
  lost: number;
  frames: number[];
  bytes: number;
}

async function sample(generators: Generator[]): Promise<Totals> {
  const t: Totals = { packets: 0, lost: 0, frames: [], bytes: 0 };
  const replies = await Promise.all(
    generators.map((g) => {
      g.child.stdin!.write('sample\n');
      return g.next() as Promise<{ receivers: { packets: number; lost: number; frames: number; bytes: number }[] }>;
    }),
  );
  for (const r of replies) {
    for (const x of r.receivers) {
      t.packets += x.packets;
      t.lost += x.lost;
      t.bytes += x.bytes;
      t.frames.push(x.frames);
    }
  }
  return t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
}

async function run(workers: number): Promise<Record<string, unknown>[]> {
  const server: DeskcastServer = await startDeskcast(['--workers', String(workers), '--max-viewers', '10000', '--always-on']);
  const noise = spawn('xterm', ['-display', server.display, '-geometry', '120x45+0+0', '-e', 'sh', '-c', 'while :; do head -c 4000 /dev/urandom | base64; sleep 0.03; done'], { stdio: 'ignore' });
  const { browser, close } = await launchChromium();
  const generators: Generator[] = [];
  const results: Record<string, unknown>[] = [];
  try {
    const origin = `https://127.0.0.1:${server.port}`;
    const pages = [];
    for (let i = 0; i < 2; i++) pages.push(await openLiveViewer(browser, viewerUrl(server), 30_000));
    let have = 0;
    for (const n of STEPS) {
      const add = n - have;
      if (add <= 0) continue;
      process.stderr.write(`[load] workers ${workers}: adding ${add} receivers (to ${n}) in ${GENERATORS} processes…\n`);
      const fresh = Array.from({ length: GENERATORS }, (_, i) => Math.floor(add / GENERATORS) + (i < add % GENERATORS ? 1 : 0))
        .filter((c) => c > 0)
        .map((c, i) => startGenerator(origin, server.token, c, `w${workers}-n${n}-g${i}`));
      const ready = (await Promise.all(fresh.map((g) => g.next()))) as { ready: number; failed: number; error: string }[];
      generators.push(...fresh);
      const failed = ready.reduce((a, r) => a + r.failed, 0);
      have = n;
      if (failed > 0) process.stderr.write(`[load] ${failed} receivers failed to connect: ${ready.find((r) => r.error)?.error}\n`);
      await new Promise((r) => setTimeout(r, 4000)); // settle past the new consumers' keyframes
      const cpu0 = await server.workerCpuMs();
      const a = await sample(generators);
      const f0 = await Promise.all(pages.map(framesDecoded));
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, MEASURE_S * 1000));
      const b = await sample(generators);
      const cpu1 = await server.workerCpuMs();
      const f1 = await Promise.all(pages.map(framesDecoded));
      const seconds = (Date.now() - t0) / 1000;
      const receivers = b.frames.length;
      const lossPct = (100 * (b.lost - a.lost)) / Math.max(1, b.packets - a.packets + (b.lost - a.lost));
      const fps = b.frames.map((x, i) => (x - (a.frames[i] ?? 0)) / seconds);
      const workerCores = cpu1.map((c, i) => (c - (cpu0[i] ?? 0)) / 1000 / seconds);
      const cores = workerCores.reduce((x, y) => x + y, 0);
      const step = {
        workers,
        viewers: receivers + pages.length,
        receivers,
        failedToConnect: failed,
        lossPct: Math.round(lossPct * 1000) / 1000,
        receiverFpsMedian: Math.round(median(fps) * 10) / 10,
        receiverFpsMin: Math.round(Math.min(...fps) * 10) / 10,
        chromiumFps: f1.map((x, i) => Math.round(((x - f0[i]!) / seconds) * 10) / 10),
        mbpsPerReceiver: Math.round((((b.bytes - a.bytes) * 8) / seconds / 1e6 / Math.max(1, receivers)) * 100) / 100,
        workerCores: workerCores.map((c) => Math.round(c * 1000) / 1000),
        workerCpuPerViewerPct: Math.round(((100 * cores) / (receivers + pages.length)) * 1000) / 1000,
      };
      process.stderr.write(`[load] ${JSON.stringify(step)}\n`);
      results.push(step);
    }
  } finally {
    for (const g of generators) g.child.stdin!.write('quit\n');
    await new Promise((r) => setTimeout(r, 1500));
    for (const g of generators) g.child.kill();
    noise.kill();
    await close();
    await server.close();
  }
  return results;
}

const all: Record<string, unknown>[] = [];
for (const w of WORKER_CONFIGS) all.push(...(await run(w)));
const good = (s: Record<string, unknown>): boolean => (s['lossPct'] as number) < 1 && (s['receiverFpsMedian'] as number) >= 0.9 * FPS && (s['failedToConnect'] as number) === 0;
const best = WORKER_CONFIGS.map((w) => {
  const ok = all.filter((s) => s['workers'] === w && good(s));
  const top = ok.at(-1);
  return { workers: w, highestGoodViewers: top?.['viewers'] ?? 0, workerCpuPerViewerPct: top?.['workerCpuPerViewerPct'] };
});
const perViewer = median(all.filter(good).map((s) => s['workerCpuPerViewerPct'] as number));
report(
  'load',
  { steps: all, best, workerCpuPerViewerPctMedian: perViewer, impliedViewersPerCore: Math.floor(100 / perViewer), mediasoupPublishedConsumersPerWorker: 500 },
  best.map((b) => `workers ${b.workers}: ${b.highestGoodViewers} viewers with < 1 % loss at full frame rate`).join('; ') +
    `; worker CPU ${perViewer} % of a core per viewer (≈ ${Math.floor(100 / perViewer)} viewers per core, ${Math.floor(200 / perViewer)} consumers; mediasoup publishes ~500 consumers per worker)`,
);
process.exit(0);
