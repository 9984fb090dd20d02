// Thin typed wrapper over `pactl` (pulseaudio-utils). Works against PulseAudio and pipewire-pulse.
//
// Every call goes through execFile with an argument array (no shell). Output is parsed from the
// plain-text format under LC_ALL=C, not `pactl -f json`: pactl 16.1's JSON writer replaces any
// non-ASCII property value with "(null)" (an app called "Café" would be unmatchable) and omits
// module indexes.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { PactlCommandError, PulseToolMissingError, SoundServerUnreachableError } from './errors.js';

/** Where the sound server is. Empty = libpulse's default (PULSE_SERVER, then the user's runtime dir). */
export interface PulseConnection {
  /** e.g. 'unix:/tmp/deskcast-pulse-x/native'; sets PULSE_SERVER for the tools. */
  server?: string | undefined;
  /** Cookie file for that server; sets PULSE_COOKIE. */
  cookie?: string | undefined;
}

export interface PulseSink {
  index: number;
  name: string;
  ownerModule: number | null;
  monitorSource: string;
  properties: Record<string, string>;
}

export interface PulseSinkInput {
  index: number;
  sink: number;
  ownerModule: number | null;
  client: number | null;
  properties: Record<string, string>;
}

export interface PulseSource {
  index: number;
  name: string;
  ownerModule: number | null;
  /** Set for a sink's monitor (not a microphone). */
  monitorOfSink: string | null;
  properties: Record<string, string>;
}

export interface PulseModule {
  index: number;
  name: string;
  argument: string;
}

export interface PulseEvent {
  /** 'new' | 'change' | 'remove' */
  type: string;
  /** 'sink' | 'sink-input' | 'module' | 'server' | ... */
  facility: string;
  index: number;
}

interface ListEntry {
  index: number;
  fields: Record<string, string>;
  properties: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Environment for PulseAudio client tools talking to `connection`. */
export function pulseEnv(connection: PulseConnection = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  if (connection.server) env['PULSE_SERVER'] = connection.server;
  if (connection.cookie) env['PULSE_COOKIE'] = connection.cookie;
  return env;
}

/** Human label of the server for messages. */
export function serverLabel(connection: PulseConnection = {}): string {
  // --pulse-server already carries $PULSE_SERVER (the settings table reads it).
  if (connection.server) return `at ${connection.server}`;
  return 'at its default address ($XDG_RUNTIME_DIR/pulse/native)';
}

// pactl prints "Connection failure: <libpulse error>" when it cannot reach or is refused by the server.
const CONNECTION_FAILURE = /^Connection failure: /m;

export class Pactl {
  readonly connection: PulseConnection;
  readonly #env: NodeJS.ProcessEnv;

  constructor(connection: PulseConnection = {}) {
    this.connection = { ...connection };
    this.#env = pulseEnv(connection);
  }

  /** Runs pactl with `args`; resolves with stdout. */
  run(args: readonly string[], hint = 'Check the sound server with `pactl info`.', timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('pactl', [...args], { env: this.#env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) {
          resolve(stdout);
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        if (e.code === 'ENOENT') reject(new PulseToolMissingError('pactl'));
        else if (e.killed) reject(new SoundServerUnreachableError(serverLabel(this.connection), `pactl ${args[0] ?? ''} got no answer within ${timeoutMs} ms`));
        else if (CONNECTION_FAILURE.test(stderr)) {
          const detail = (stderr.split('\n').find((l) => CONNECTION_FAILURE.test(l)) ?? '').replace(CONNECTION_FAILURE, '').trim();
          reject(new SoundServerUnreachableError(serverLabel(this.connection), detail || 'no answer'));
        } else reject(new PactlCommandError(args, stderr, hint));
      });
    });
  }

  async getDefaultSink(): Promise<string | null> {
    const name = (await this.run(['get-default-sink'])).trim();
    return name && name !== '@DEFAULT_SINK@' ? name : null;
  }

  async setDefaultSink(name: string): Promise<void> {
    await this.run(['set-default-sink', name]);
  }

  async listSinks(): Promise<PulseSink[]> {
    return parseList(await this.run(['list', 'sinks']), 'Sink').map((e) => ({
      index: e.index,
      name: e.fields['Name'] ?? '',
      ownerModule: parseIndex(e.fields['Owner Module']),
      monitorSource: e.fields['Monitor Source'] ?? '',
      properties: e.properties,
    }));
  }

  async getDefaultSource(): Promise<string | null> {
    const name = (await this.run(['get-default-source'])).trim();
    return name && name !== '@DEFAULT_SOURCE@' ? name : null;
  }

  async listSources(): Promise<PulseSource[]> {
    return parseList(await this.run(['list', 'sources']), 'Source').map((e) => {
      const monitorOf = e.fields['Monitor of Sink'] ?? 'n/a';
      return {
        index: e.index,
        name: e.fields['Name'] ?? '',
        ownerModule: parseIndex(e.fields['Owner Module']),
        monitorOfSink: monitorOf === 'n/a' || monitorOf === '' ? null : monitorOf,
        properties: e.properties,
      };
    });
  }

  /** Volume of one playback stream, in percent of normal (100). */
  async setSinkInputVolume(index: number, percent: number): Promise<void> {
    await this.run(['set-sink-input-volume', String(index), `${Math.round(percent)}%`]);
  }

  async listSinkInputs(): Promise<PulseSinkInput[]> {
    return parseList(await this.run(['list', 'sink-inputs']), 'Sink Input').map((e) => ({
      index: e.index,
      sink: parseIndex(e.fields['Sink']) ?? -1,
      ownerModule: parseIndex(e.fields['Owner Module']),
      client: parseIndex(e.fields['Client']),
      properties: e.properties,
    }));
  }

  async listModules(): Promise<PulseModule[]> {
    // `list short modules`: index TAB name TAB argument [TAB usage]
    const modules: PulseModule[] = [];
    for (const line of (await this.run(['list', 'short', 'modules'])).split('\n')) {
      const [index, name, argument] = line.split('\t');
      const i = parseIndex(index);
      if (i === null || !name) continue;
      modules.push({ index: i, name, argument: argument ?? '' });
    }
    return modules;
  }

  /** Loads a module; resolves with its index. `args` are joined with spaces, as pactl does. */
  async loadModule(name: string, args: readonly string[], hint?: string): Promise<number> {
    const out = await this.run(['load-module', name, ...args], hint ?? `The sound server could not load ${name}.`);
    const index = parseIndex(out.trim());
    if (index === null) throw new PactlCommandError(['load-module', name, ...args], `unexpected output '${out.trim()}'`, 'Report this as a deskcast bug.');
    return index;
  }

  async unloadModule(index: number): Promise<void> {
    await this.run(['unload-module', String(index)]);
  }

  async moveSinkInput(index: number, sink: string): Promise<void> {
    await this.run(['move-sink-input', String(index), sink]);
  }

  /**
   * Starts `pactl subscribe`. `onEvent` gets each event; `onExit` is called once when pactl
   * exits (server gone, killed), with its last error text.
   */
  subscribe(onEvent: (event: PulseEvent) => void, onExit: (detail: string) => void): ChildProcess {
    const child = spawn('pactl', ['subscribe'], { env: this.#env, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffer = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = /^Event '([a-z]+)' on ([a-z-]+) #(\d+)/.exec(line);
        if (m) onEvent({ type: m[1] ?? '', facility: m[2] ?? '', index: Number(m[3]) });
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    let exited = false;
    const done = (detail: string): void => {
      if (exited) return;
      exited = true;
      onExit(detail);
    };
    child.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ENOENT' ? new PulseToolMissingError('pactl').message : err.message));
    child.on('exit', (code, signal) => done(stderr.trim() || `pactl subscribe exited (code ${code}, signal ${signal})`));
    return child;
  }
}

function parseIndex(value: string | undefined): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  return /^\d+$/.test(v) ? Number(v) : null;
}

/**
 * Parses `pactl list <type>` (LC_ALL=C): blocks start with "<Header> #<index>", fields are
 * "\tKey: value", properties are "\t\tkey = "value"" below "\tProperties:". Property values
 * have '"' escaped as '\"'; a value with a newline continues on the next line(s).
 */
export function parseList(text: string, header: string): ListEntry[] {
  const entries: ListEntry[] = [];
  let current: ListEntry | null = null;
  let inProperties = false;
  let openProperty: { key: string; value: string } | null = null;
  const headerRe = new RegExp(`^${header.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} #(\\d+)$`);
  const finishProperty = (): void => {
    if (current && openProperty) current.properties[openProperty.key] = unescapeValue(openProperty.value);
    openProperty = null;
  };
  for (const line of text.split('\n')) {
    if (openProperty) {
      // continuation of a multi-line value: ends at a line ending in an unescaped quote
      openProperty.value += `\n${line}`;
      if (/(^|[^\\])"$/.test(line)) {
        openProperty.value = openProperty.value.slice(0, -1);
        finishProperty();
      }
      continue;
    }
    const h = headerRe.exec(line);
    if (h) {
      current = { index: Number(h[1]), fields: {}, properties: {} };
      entries.push(current);
      inProperties = false;
      continue;
    }
    if (!current) continue;
    if (line.startsWith('\t\t') && inProperties) {
      const p = /^\t\t([^\s=]+) = "(.*)$/.exec(line);
      if (!p) continue;
      const key = p[1] ?? '';
      const rest = p[2] ?? '';
      if (/(^|[^\\])"$/.test(rest) || rest === '"') {
        current.properties[key] = unescapeValue(rest.slice(0, -1));
      } else {
        openProperty = { key, value: rest };
      }
      continue;
    }
    if (line.startsWith('\t') && !line.startsWith('\t\t')) {
      const f = /^\t([^:]+):\s?(.*)$/.exec(line);
      if (!f) continue;
      const key = f[1] ?? '';
      inProperties = key === 'Properties';
      if (!inProperties) current.fields[key] = f[2] ?? '';
    }
  }
  finishProperty();
  return entries;
}

function unescapeValue(v: string): string {
  return v.replace(/\\"/g, '"');
}

/** Parses "key=value key2='quoted value'" module arguments (PulseAudio's modargs syntax). */
export function parseModuleArguments(argument: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_.-]+)=(?:'([^']*)'|"([^"]*)"|(\S*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(argument))) out[m[1] ?? ''] = m[2] ?? m[3] ?? m[4] ?? '';
  return out;
}
