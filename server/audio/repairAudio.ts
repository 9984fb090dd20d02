// deskcast --repair: removes per-app capture sinks (`deskcast_app_<pid>`), microphone mix sinks
// (`deskcast_mix_<pid>`, --mic) and their loopbacks left behind by deskcast processes that died without closing them (crash, SIGKILL, power cut of
// the client while the sound server lived on). Sinks of running deskcast processes are kept.
import { createLogger } from '../util/logger.js';
import { SoundServerUnreachableError } from './errors.js';
import { Pactl, parseModuleArguments, serverLabel, type PulseConnection } from './pactl.js';
import { parseMixSinkName } from './MicMixer.js';
import { parseAppSinkName } from './PerAppAudioRouter.js';

/** PID of a sink deskcast creates (per-app or mix), or null. */
function parseOwnedSinkName(name: string): number | null {
  return parseAppSinkName(name) ?? parseMixSinkName(name);
}
import { isProcessAlive, pidNamespace, processStartTime } from './processIdentity.js';

const log = createLogger('audio');

export type RepairAudioOptions = PulseConnection;

export interface RemovedAppSink {
  sinkName: string;
  pid: number;
  /** Why it was judged orphaned. */
  reason: string;
  /** Loopback and null-sink modules unloaded. */
  unloadedModules: number[];
  /** Playback streams moved from it back to the default sink. */
  movedStreams: number;
}

export interface KeptAppSink {
  sinkName: string;
  pid: number;
  reason: string;
}

export interface RepairAudioResult {
  server: string;
  removed: RemovedAppSink[];
  kept: KeptAppSink[];
  /** Things that could not be done (the rest was still repaired). */
  problems: string[];
  /** Human-readable report for the CLI. */
  summary: string;
}

interface AppSinkGroup {
  pid: number;
  sinkName: string;
  sinkIndex: number | null;
  properties: Record<string, string>;
  sinkModules: Set<number>;
  loopbackModules: Set<number>;
}

export async function repairAudio(options: RepairAudioOptions = {}): Promise<RepairAudioResult> {
  const pactl = new Pactl(options);
  const server = serverLabel(options);
  const [modules, sinks] = await Promise.all([pactl.listModules(), pactl.listSinks()]);

  // One group per deskcast sink (a process may own a per-app sink and a mix sink).
  const groups = new Map<string, AppSinkGroup>();
  const group = (sinkName: string, pid: number): AppSinkGroup => {
    let g = groups.get(sinkName);
    if (!g) {
      g = { pid, sinkName, sinkIndex: null, properties: {}, sinkModules: new Set(), loopbackModules: new Set() };
      groups.set(sinkName, g);
    }
    return g;
  };
  for (const m of modules) {
    const args = parseModuleArguments(m.argument);
    if (m.name === 'module-null-sink') {
      const name = args['sink_name'] ?? '';
      const pid = parseOwnedSinkName(name);
      if (pid !== null) group(name, pid).sinkModules.add(m.index);
    } else if (m.name === 'module-loopback') {
      // Into a mix sink (desktop and microphone), else out of a per-app sink's monitor.
      const sink = args['sink'] ?? '';
      const mixPid = parseMixSinkName(sink);
      const source = args['source'] ?? '';
      const monitored = source.endsWith('.monitor') ? source.slice(0, -'.monitor'.length) : '';
      const appPid = parseAppSinkName(monitored);
      if (mixPid !== null) group(sink, mixPid).loopbackModules.add(m.index);
      else if (appPid !== null) group(monitored, appPid).loopbackModules.add(m.index);
    }
  }
  for (const s of sinks) {
    const pid = parseOwnedSinkName(s.name);
    if (pid === null) continue;
    const g = group(s.name, pid);
    g.sinkIndex = s.index;
    g.properties = s.properties;
    if (s.ownerModule !== null) g.sinkModules.add(s.ownerModule);
  }

  const myNamespace = pidNamespace('self');
  const removed: RemovedAppSink[] = [];
  const kept: KeptAppSink[] = [];
  const problems: string[] = [];
  const orphans: Array<{ g: AppSinkGroup; reason: string }> = [];
  for (const g of [...groups.values()].sort((a, b) => a.pid - b.pid || a.sinkName.localeCompare(b.sinkName))) {
    const verdict = judge(g, myNamespace);
    if (verdict.orphaned) orphans.push({ g, reason: verdict.reason });
    else kept.push({ sinkName: g.sinkName, pid: g.pid, reason: verdict.reason });
  }

  if (orphans.length > 0) {
    const orphanNames = new Set(orphans.map((o) => o.g.sinkName));
    let target = await pactl.getDefaultSink();
    if (!target || orphanNames.has(target)) target = sinks.find((s) => !orphanNames.has(s.name) && parseOwnedSinkName(s.name) === null)?.name ?? null;
    const inputs = await pactl.listSinkInputs();
    for (const { g, reason } of orphans) {
      const entry: RemovedAppSink = { sinkName: g.sinkName, pid: g.pid, reason, unloadedModules: [], movedStreams: 0 };
      if (g.sinkIndex !== null && target) {
        for (const input of inputs) {
          if (input.sink !== g.sinkIndex || (input.ownerModule !== null && g.loopbackModules.has(input.ownerModule))) continue;
          try {
            await pactl.moveSinkInput(input.index, target);
            entry.movedStreams++;
          } catch (err) {
            problems.push(`could not move stream #${input.index} off ${g.sinkName}: ${(err as Error).message}`);
          }
        }
      }
      for (const m of [...g.loopbackModules, ...g.sinkModules]) {
        try {
          await pactl.unloadModule(m);
          entry.unloadedModules.push(m);
        } catch (err) {
          if (err instanceof SoundServerUnreachableError) throw err;
          problems.push(`could not unload module #${m} of ${g.sinkName}: ${(err as Error).message}`);
        }
      }
      removed.push(entry);
      log.info(`repair: removed ${g.sinkName} (${reason}); modules ${entry.unloadedModules.map((m) => `#${m}`).join(', ') || 'none'}`);
    }
  }

  return { server, removed, kept, problems, summary: summarize(server, removed, kept, problems) };
}

function judge(g: AppSinkGroup, myNamespace: string | null): { orphaned: boolean; reason: string } {
  const ns = g.properties['deskcast.pidns'];
  if (ns && ns !== 'unknown' && myNamespace && ns !== myNamespace) {
    return { orphaned: false, reason: `created in another PID namespace (container); run --repair there` };
  }
  if (!isProcessAlive(g.pid)) return { orphaned: true, reason: `process ${g.pid} is gone` };
  const recorded = g.properties['deskcast.pid_start'];
  if (recorded && recorded !== 'unknown') {
    const actual = processStartTime(g.pid);
    if (actual && actual !== recorded) return { orphaned: true, reason: `PID ${g.pid} now belongs to a different, later process` };
  }
  return { orphaned: false, reason: `process ${g.pid} is running` };
}

function summarize(server: string, removed: RemovedAppSink[], kept: KeptAppSink[], problems: string[]): string {
  const lines: string[] = [];
  if (removed.length === 0 && kept.length === 0) {
    lines.push(`Audio: nothing to repair on the sound server ${server} (no deskcast per-app or mix sinks).`);
  } else {
    lines.push(`Audio: repaired the sound server ${server}: removed ${removed.length}, kept ${kept.length} deskcast per-app/mix sink(s).`);
    for (const r of removed) {
      const modules = r.unloadedModules.length ? `unloaded module(s) ${r.unloadedModules.map((m) => `#${m}`).join(', ')}` : 'no module to unload';
      const streams = r.movedStreams ? `; moved ${r.movedStreams} stream(s) back to the default sink` : '';
      lines.push(`  removed ${r.sinkName}: ${r.reason}; ${modules}${streams}`);
    }
    for (const k of kept) lines.push(`  kept    ${k.sinkName}: ${k.reason}`);
  }
  for (const p of problems) lines.push(`  problem: ${p}`);
  return lines.join('\n');
}
