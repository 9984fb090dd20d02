import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createLogger } from '../util/logger.js';
import { DEFAULT_UPSTREAM_MBPS } from './CapacityModel.js';

const log = createLogger('capacity');

/** Where the upstream figure in force comes from. */
export type UpstreamSource = 'flag' | 'measured' | 'skipped' | 'failed' | 'default';

export interface Upstream {
  mbps: number;
  source: UpstreamSource;
  /** When it was measured or skipped (ISO time), for persisted results. */
  at?: string;
  /** One line for the log, the admin page and /healthz. */
  detail: string;
}

/** What capacity.json holds. */
export interface PreflightRecord {
  status: 'measured' | 'skipped' | 'failed';
  mbps?: number;
  at: string;
  url?: string;
  error?: string;
}

export interface UpstreamOptions {
  /** --upstream-mbps; undefined: not given. */
  flagMbps: number | undefined;
  /** --config-dir (else $XDG_CONFIG_HOME, else ~/.config). */
  configDir: string;
  preflight: boolean;
  preflightUrl: string;
  preflightSeconds: number;
  reconfigure: boolean;
  /** Progress lines while measuring (the log by default). */
  progress?: (line: string) => void;
}

export function capacityFile(configDir: string): string {
  return join(configDir || join(homedir(), '.config'), 'deskcast', 'capacity.json');
}

/** Reads capacity.json: undefined when absent; a corrupt file is logged and ignored (measured again). */
function readPreflightRecord(path: string): PreflightRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`cannot read ${path} (${(err as Error).message}); measuring again`);
    return undefined;
  }
  try {
    const r = JSON.parse(text) as Partial<PreflightRecord> | null;
    const valid =
      typeof r === 'object' && r !== null && typeof r.at === 'string' &&
      (r.status === 'skipped' || r.status === 'failed' || (r.status === 'measured' && typeof r.mbps === 'number' && Number.isFinite(r.mbps) && r.mbps > 0));
    if (!valid) throw new Error('expected {"status": "measured"|"skipped"|"failed", "mbps": number, "at": time}');
    return r as PreflightRecord;
  } catch (err) {
    log.warn(`${path} is corrupt (${(err as Error).message}); ignoring it and measuring again`);
    return undefined;
  }
}

function writePreflightRecord(path: string, record: PreflightRecord): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(tmp, path);
  } catch (err) {
    log.warn(`cannot remember the preflight result in ${path}: ${(err as Error).message}`);
  }
}

const HOW_TO_SET = 'give --upstream-mbps N (your upload speed) or --preflight-url (e.g. another deskcast\'s https://HOST:8443/api/upload-sink?t=TOKEN)';

function fallback(source: UpstreamSource, why: string, at?: string): Upstream {
  return { mbps: DEFAULT_UPSTREAM_MBPS, source, at, detail: `${why}: assuming a conservative ${DEFAULT_UPSTREAM_MBPS} Mb/s upstream; ${HOW_TO_SET}` };
}

function fromRecord(record: PreflightRecord, path: string): Upstream {
  if (record.status === 'measured') {
    return { mbps: record.mbps!, source: 'measured', at: record.at, detail: `upstream ${record.mbps!.toFixed(1)} Mb/s, measured ${record.at} (${path}; --reconfigure measures again)` };
  }
  if (record.status === 'skipped') return fallback('skipped', `the preflight was skipped (${record.at}, remembered in ${path}; --reconfigure measures)`, record.at);
  return fallback('failed', `the preflight failed (${record.at}: ${record.error ?? 'unknown error'}; --reconfigure retries)`, record.at);
}

/**
 * The upstream bandwidth in force: --upstream-mbps, else the remembered preflight, else a
 * preflight now (remembered), else a conservative default. Never throws: a failed or
 * impossible measurement falls back to the default and the log says why.
 */
export async function resolveUpstream(options: UpstreamOptions): Promise<Upstream> {
  if (options.flagMbps !== undefined) return { mbps: options.flagMbps, source: 'flag', detail: `upstream ${options.flagMbps} Mb/s (--upstream-mbps)` };
  const path = capacityFile(options.configDir);
  if (!options.reconfigure) {
    const record = readPreflightRecord(path);
    if (record) return fromRecord(record, path);
  }
  const at = new Date().toISOString();
  if (!options.preflight) {
    writePreflightRecord(path, { status: 'skipped', at });
    return fromRecord({ status: 'skipped', at }, path);
  }
  if (!options.preflightUrl) return fallback('default', 'no upstream measurement (no --preflight-url: deskcast assumes no public test endpoint)');
  try {
    const mbps = await measureUpload(options.preflightUrl, options.preflightSeconds, options.progress ?? ((line) => log.info(line)));
    const record: PreflightRecord = { status: 'measured', mbps: Math.round(mbps * 10) / 10, at, url: redact(options.preflightUrl) };
    writePreflightRecord(path, record);
    return fromRecord(record, path);
  } catch (err) {
    const record: PreflightRecord = { status: 'failed', at, url: redact(options.preflightUrl), error: (err as Error).message };
    writePreflightRecord(path, record);
    return fromRecord(record, path);
  }
}

/** The URL without its query (it may carry another host's token). */
function redact(url: string): string {
  return url.replace(/\?.*$/, '');
}

const CHUNK = randomBytes(64 * 1024); // incompressible

/**
 * POSTs random bytes to `url` for `seconds` and returns Mb/s: bytes sent over the time until the
 * server's response (which comes after it read every byte, so kernel buffers do not inflate it).
 * Self-signed certificates are accepted: the bytes are random and nothing secret is sent but the URL.
 */
async function measureUpload(url: string, seconds: number, progress: (line: string) => void): Promise<number> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--preflight-url ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`--preflight-url must be http: or https:; got ${parsed.protocol}`);
  const request = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
  progress(`preflight: measuring the upload bandwidth to ${parsed.origin} for ${seconds} s (--no-preflight skips, --upstream-mbps sets it)…`);
  return new Promise<number>((resolve, reject) => {
    let sent = 0;
    let done = false;
    const start = performance.now();
    const req = request(parsed, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, rejectUnauthorized: false, timeout: (seconds + 15) * 1000 });
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      clearInterval(ticker);
      req.destroy();
      reject(err);
    };
    const ticker = setInterval(() => {
      const s = (performance.now() - start) / 1000;
      progress(`preflight: ${s.toFixed(0)} s, ${((sent * 8) / s / 1e6).toFixed(1)} Mb/s so far`);
    }, 1000);
    req.on('timeout', () => fail(new Error(`no answer from ${parsed.origin} within ${seconds + 15} s`)));
    req.on('error', (err) => fail(new Error(`upload to ${parsed.origin} failed: ${err.message}`)));
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        if (done) return;
        done = true;
        clearInterval(ticker);
        const elapsed = (performance.now() - start) / 1000;
        if ((res.statusCode ?? 0) >= 300) {
          reject(new Error(`${parsed.origin} answered HTTP ${res.statusCode}`));
          return;
        }
        const mbps = (sent * 8) / elapsed / 1e6;
        progress(`preflight: ${(sent / 1e6).toFixed(1)} MB in ${elapsed.toFixed(1)} s = ${mbps.toFixed(1)} Mb/s upstream`);
        resolve(mbps);
      });
    });
    const pump = (): void => {
      while (!done) {
        if ((performance.now() - start) / 1000 >= seconds) {
          req.end();
          return;
        }
        sent += CHUNK.length;
        if (!req.write(CHUNK)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}
