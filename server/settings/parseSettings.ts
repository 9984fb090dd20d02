import { readFileSync } from 'node:fs';
import { settingsTable, type SettingDefinition, type SettingKey } from './settingsTable.js';

export interface Settings {
  port: number;
  bind: string;
  tlsCert: string;
  tlsKey: string;
  token: string;
  config: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  display: string;
  capture: 'auto' | 'x11' | 'wayland';
  waylandDisplay: string;
  xdgRuntimeDir: string;
  output: string;
  embedded: 'x11' | 'wayland';
  keyboardLayout: string;
  embeddedSize: { width: number; height: number };
  fps: number;
  bitrate: number;
  keyframeInterval: number;
  encoder: 'auto' | 'x264' | 'nvenc' | 'vaapi';
  codecs: 'h264,vp8' | 'h264';
  workers: number | undefined;
  announcedAddress: string;
  rtcPort: number;
  maxViewers: number;
  upstreamMbps: number | undefined;
  preflight: boolean;
  preflightUrl: string;
  preflightSeconds: number;
  reconfigure: boolean;
  configDir: string;
  alwaysOn: boolean;
  idleGrace: number;
  adminToken: string;
  control: 'off' | 'request' | 'free';
  clipboardRead: boolean;
  audio: boolean;
  audioSource: string;
  audioApp: string;
  audioBitrate: number;
  mic: boolean;
  micSource: string;
  micVolume: number;
  pulseServer: string;
  pulseCookie: string;
  workerBin: string;
  captureSocket: string;
  recordDir: string;
  recordSegment: number;
  recordMinFree: number;
  record: boolean;
  repair: boolean;
  help: boolean;
}

// Compile-time check that the table and the Settings type name the same keys.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const tableMatchesType: Same<SettingKey, keyof Settings> = true;
void tableMatchesType;

/** A setting given with a value it cannot take; the message says which and what is allowed. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

type Source = 'flag' | 'env' | 'config';

function describeSource(def: SettingDefinition, source: Source, configPath?: string, env?: string): string {
  if (source === 'flag') return `--${def.flag}`;
  if (source === 'env') return env ? `$${env}` : `$${def.env}`;
  return `"${def.key}" in ${configPath}`;
}

function convert(def: SettingDefinition, raw: unknown, where: string): unknown {
  const kind = def.kind;
  switch (kind.type) {
    case 'integer': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || n < kind.min || n > kind.max) {
        throw new SettingsError(`${where} must be a whole number from ${kind.min} to ${kind.max}; got ${JSON.stringify(raw)}.`);
      }
      return n;
    }
    case 'string': {
      if (typeof raw !== 'string') throw new SettingsError(`${where} must be text; got ${JSON.stringify(raw)}.`);
      if (!kind.allowEmpty && raw.trim() === '') throw new SettingsError(`${where} must not be empty.`);
      return raw;
    }
    case 'enum': {
      if (typeof raw !== 'string' || !kind.values.includes(raw)) {
        throw new SettingsError(`${where} must be one of ${kind.values.join(', ')}; got ${JSON.stringify(raw)}.`);
      }
      return raw;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no') return false;
      throw new SettingsError(`${where} must be true or false; got ${JSON.stringify(raw)}.`);
    }
    case 'size': {
      const m = typeof raw === 'string' ? /^(\d{2,5})x(\d{2,5})$/.exec(raw.trim()) : null;
      const width = m ? Number(m[1]) : 0;
      const height = m ? Number(m[2]) : 0;
      if (!m || width < 64 || height < 64 || width > 7680 || height > 4320) {
        throw new SettingsError(`${where} must be WIDTHxHEIGHT between 64x64 and 7680x4320, e.g. 1920x1080; got ${JSON.stringify(raw)}.`);
      }
      return { width, height };
    }
  }
}

function parseArgv(argv: readonly string[]): Map<SettingDefinition, string | true> {
  const byFlag = new Map<string, SettingDefinition>(settingsTable.map((d) => [d.flag, d]));
  const given = new Map<SettingDefinition, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') {
      given.set(byFlag.get('help')!, true);
      continue;
    }
    if (!arg.startsWith('--')) {
      throw new SettingsError(`Unexpected argument ${JSON.stringify(arg)}: settings are given as --name value. See --help.`);
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const negated = name.startsWith('no-') && !byFlag.has(name) ? byFlag.get(name.slice(3)) : undefined;
    const def = byFlag.get(name) ?? negated;
    if (!def) throw new SettingsError(`Unknown flag --${name}. See --help for the list of settings.`);
    if (def.kind.type === 'boolean') {
      if (eq !== -1) given.set(def, arg.slice(eq + 1));
      else given.set(def, negated ? 'false' : true);
      continue;
    }
    if (negated) throw new SettingsError(`--${name} is not a switch; give --${def.flag} a value instead.`);
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new SettingsError(`--${def.flag} needs a value. See --help.`);
    given.set(def, value);
  }
  return given;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SettingsError(`Cannot read the config file ${path}: ${(err as Error).message}. Check the path given to --config.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SettingsError(`The config file ${path} is not valid JSON (${(err as Error).message}). Fix it or remove --config.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SettingsError(`The config file ${path} must hold a JSON object such as {"port": 9443}.`);
  }
  const known = new Set<string>(settingsTable.map((d) => d.key));
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) {
      throw new SettingsError(`Unknown setting "${key}" in ${path}. Known: ${[...known].join(', ')}.`);
    }
  }
  return parsed as Record<string, unknown>;
}

/**
 * Resolves every setting: flag > DESKCAST_* env var > config file > default.
 * Throws SettingsError naming the bad input and what it accepts.
 */
export function parseSettings(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Settings {
  const fromArgv = parseArgv(argv);
  const configDef = settingsTable.find((d) => d.key === 'config')!;
  const configPathRaw = fromArgv.get(configDef) ?? env[configDef.env] ?? '';
  const configPath = typeof configPathRaw === 'string' ? configPathRaw : '';
  const fromConfig = configPath ? readConfigFile(configPath) : {};

  const result: Record<string, unknown> = {};
  for (const def of settingsTable) {
    const flagValue = fromArgv.get(def);
    if (flagValue !== undefined) {
      result[def.key] = convert(def, flagValue, describeSource(def, 'flag'));
    } else if (env[def.env] !== undefined && env[def.env] !== '') {
      result[def.key] = convert(def, env[def.env], describeSource(def, 'env'));
    } else if (def.alsoEnv && env[def.alsoEnv] !== undefined && env[def.alsoEnv] !== '') {
      result[def.key] = convert(def, env[def.alsoEnv], describeSource(def, 'env', undefined, def.alsoEnv));
    } else if (def.key in fromConfig) {
      result[def.key] = convert(def, fromConfig[def.key], describeSource(def, 'config', configPath));
    } else {
      result[def.key] = def.default === undefined ? undefined : convert(def, def.default, `default of --${def.flag}`);
    }
  }
  const settings = result as unknown as Settings;
  if (settings.micSource !== '') settings.mic = true; // naming the microphone means "use it"
  if ((settings.tlsCert === '') !== (settings.tlsKey === '')) {
    throw new SettingsError('--tls-cert and --tls-key go together: give both files, or neither for a generated certificate.');
  }
  return settings;
}

function formatDefault(def: SettingDefinition): string {
  if (def.default === undefined) return '(derived)';
  if (def.default === '') return '(empty)';
  return String(def.default);
}

function valueHint(def: SettingDefinition): string {
  switch (def.kind.type) {
    case 'integer': return `<${def.kind.min}-${def.kind.max}>`;
    case 'enum': return `<${def.kind.values.join('|')}>`;
    case 'size': return '<WxH>';
    case 'boolean': return '';
    case 'string': return '<text>';
  }
}

/** The text `--help` prints, generated from the table. */
export function helpText(): string {
  const lines = ['Usage: npm start -- [settings]', '', 'Every setting is a flag, a DESKCAST_* environment variable, or a key in --config.', ''];
  let group = '';
  for (const def of settingsTable) {
    if (def.group !== group) {
      group = def.group;
      lines.push(`${group}:`);
    }
    const flag = `  --${def.flag} ${valueHint(def)}`.padEnd(40);
    lines.push(`${flag}${def.help}`);
    lines.push(`${''.padEnd(40)}env ${def.env}${def.alsoEnv ? ` (or ${def.alsoEnv})` : ''}, default ${formatDefault(def)}`);
  }
  return lines.join('\n');
}

/** docs/SETTINGS.md, generated from the table (scripts/generate-settings-docs.ts). */
export function settingsMarkdown(): string {
  const rows = settingsTable.map(
    (d) => `| \`--${d.flag}\` | \`${d.env}\`${d.alsoEnv ? ` (or \`${d.alsoEnv}\`)` : ''} | \`${d.key}\` | ${d.default === undefined ? '(derived)' : d.default === '' ? '(empty)' : `\`${String(d.default)}\``} | ${d.help} |`,
  );
  return [
    '# deskcast settings',
    '',
    '<!-- Generated from server/settings/settingsTable.ts by `npm run docs`. Do not edit by hand. -->',
    '',
    'Precedence: flag, then environment variable, then the `--config` JSON file, then the default.',
    '',
    '| flag | environment variable | config key | default | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
