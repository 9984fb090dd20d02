import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { createLogger } from '../util/logger.js';
import type { MediaTap, TapAccessUnit } from './MediaTap.js';

const log = createLogger('capture-socket');

/** A command line longer than this (without its newline) is refused and the client dropped. */
export const MAX_COMMAND_BYTES = 64;
/** A STREAM client further behind than this skips to the next keyframe. */
export const STREAM_BACKLOG_BYTES = 2 * 1024 * 1024;
/** A STREAM client that has not taken a byte for this long is dropped. */
const STALLED_CLIENT_MS = 30_000;
const MAX_CLIENTS = 32;

export interface CaptureSocketOptions {
  path: string;
  tap: MediaTap;
  screenshot: () => Promise<Buffer>;
  status: () => Record<string, unknown>;
}

function record(payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(payload.length);
  return Buffer.concat([head, payload]);
}

/** Length 0 then the reason, one line: how every failed command answers. */
function failure(reason: string): Buffer {
  return Buffer.concat([Buffer.alloc(4), Buffer.from(`${reason.replace(/\n/g, ' ')}\n`)]);
}

/**
 * The capture-bridge socket (a Unix socket, mode 0600) for programs that want the desktop
 * without a browser. Line commands (SCREENSHOT, STREAM, STATUS) answer with records of a
 * 4-byte big-endian length and a payload; see README "Capture-bridge socket". Everything comes
 * from the broadcast's own capture through the tap.
 */
export class CaptureSocket {
  readonly #o: CaptureSocketOptions;
  readonly #server: Server;
  readonly #clients = new Set<Socket>();
  #streamClients = 0;
  #closed = false;

  static async listen(options: CaptureSocketOptions): Promise<CaptureSocket> {
    await removeStaleSocket(options.path);
    const s = new CaptureSocket(options);
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(`cannot listen on --capture-socket ${options.path}: ${err.message}`)),
      );
      // created with mode 0600 (umask), then made sure of it: only this user may connect
      const umask = process.umask(0o177);
      try {
        s.#server.listen(options.path, () => resolve());
      } finally {
        process.umask(umask);
      }
    });
    chmodSync(options.path, 0o600);
    log.info(`capture-bridge socket on ${options.path} (SCREENSHOT, STREAM, STATUS)`);
    return s;
  }

  private constructor(options: CaptureSocketOptions) {
    this.#o = options;
    this.#server = createServer((socket) => this.#accept(socket));
  }

  get streamClients(): number {
    return this.#streamClients;
  }

  get clients(): number {
    return this.#clients.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const c of this.#clients) c.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    try {
      unlinkSync(this.#o.path);
    } catch {
      // already gone
    }
  }

  #accept(socket: Socket): void {
    if (this.#closed || this.#clients.size >= MAX_CLIENTS) {
      socket.end(failure(`too many clients (at most ${MAX_CLIENTS})`));
      return;
    }
    this.#clients.add(socket);
    socket.on('close', () => this.#clients.delete(socket));
    socket.on('error', () => socket.destroy());
    let line = '';
    let busy = Promise.resolve();
    const onData = (chunk: Buffer): void => {
      line += chunk.toString('latin1');
      for (let nl = line.indexOf('\n'); nl >= 0; nl = line.indexOf('\n')) {
        const command = line.slice(0, nl).trim().toUpperCase();
        line = line.slice(nl + 1);
        if (command === 'STREAM') {
          socket.off('data', onData);
          socket.resume(); // ignore anything more the client sends
          void busy.then(() => this.#stream(socket));
          return;
        }
        if (command !== '') busy = busy.then(() => this.#answer(socket, command));
      }
      if (line.length > MAX_COMMAND_BYTES) {
        socket.end(failure(`command too long (at most ${MAX_COMMAND_BYTES} bytes before the newline)`));
        socket.off('data', onData);
      }
    };
    socket.on('data', onData);
  }

  async #answer(socket: Socket, command: string): Promise<void> {
    let reply: Buffer;
    switch (command) {
      case 'SCREENSHOT':
        try {
          reply = record(await this.#o.screenshot());
        } catch (err) {
          reply = failure((err as Error).message);
        }
        break;
      case 'STATUS':
        reply = record(Buffer.from(JSON.stringify(this.#o.status())));
        break;
      default:
        reply = failure(`unknown command ${JSON.stringify(command.slice(0, MAX_COMMAND_BYTES))}; expected SCREENSHOT, STREAM or STATUS`);
    }
    if (!socket.destroyed) socket.write(reply);
  }

  /**
   * Sends every access unit from the next keyframe on. The socket's own buffer is the queue:
   * beyond STREAM_BACKLOG_BYTES the client skips access units until it has caught up and the
   * next keyframe comes, so memory stays bounded and the broadcast never waits.
   */
  #stream(socket: Socket): void {
    if (socket.destroyed) return;
    const tap = this.#o.tap;
    let release: () => void;
    try {
      release = tap.acquire();
    } catch (err) {
      socket.end(failure((err as Error).message));
      return;
    }
    this.#streamClients++;
    let synced = false; // false: waiting for a keyframe
    let skipping = false;
    let warned = false;
    let stalledSince = 0;
    const onAu = (au: TapAccessUnit): void => {
      if (socket.destroyed) return;
      if (socket.writableLength > STREAM_BACKLOG_BYTES) {
        if (!warned) log.warn(`a STREAM client is too slow (over ${STREAM_BACKLOG_BYTES / 1024 / 1024} MB behind): skipping to the next keyframe it can take`);
        warned = skipping = true;
        synced = false;
        stalledSince ||= Date.now();
        if (Date.now() - stalledSince > STALLED_CLIENT_MS) {
          log.warn(`dropping a STREAM client that took nothing for ${STALLED_CLIENT_MS / 1000} s`);
          socket.destroy();
        }
        return;
      }
      stalledSince = 0;
      if (!synced) {
        if (!au.keyframe) {
          if (skipping) tap.requestKeyframe(); // caught up: one IDR to resume from
          skipping = false;
          return;
        }
        synced = true;
        skipping = false;
      }
      const head = Buffer.alloc(4);
      head.writeUInt32BE(au.data.length);
      socket.write(head);
      socket.write(au.data); // shared by every client: no copy per client
    };
    tap.on('accessUnit', onAu);
    socket.once('close', () => {
      tap.off('accessUnit', onAu);
      this.#streamClients--;
      release();
    });
    tap.requestKeyframe();
    setTimeout(() => !synced && !socket.destroyed && tap.requestKeyframe(), 300).unref();
  }
}

/** Removes a socket file left by a deskcast that died; refuses a live socket or another kind of file. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`--capture-socket ${path} exists and is not a socket; remove it or pick another path`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`--capture-socket ${path}: another program (another deskcast?) listens there`);
  unlinkSync(path);
}
