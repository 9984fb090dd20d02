import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureSocket, STREAM_BACKLOG_BYTES } from '../../server/taps/CaptureSocket.js';
import type { MediaTap, TapAccessUnit } from '../../server/taps/MediaTap.js';
import { ask, openTap } from '../helpers/taps.js';

/** Stands in for the broadcast: emits access units as fast as the test wants. */
class FakeTap extends EventEmitter {
  holders = 0;
  keyframeRequests = 0;
  acquire(): () => void {
    this.holders++;
    let done = false;
    return () => {
      if (!done) this.holders--;
      done = true;
    };
  }
  requestKeyframe(): void {
    this.keyframeRequests++;
  }
  readonly #buffers = new Map<string, Buffer>();
  send(keyframe: boolean, size: number): void {
    const key = `${keyframe}-${size}`;
    let data = this.#buffers.get(key);
    if (!data) {
      data = Buffer.alloc(size, keyframe ? 0x65 : 0x41);
      data.writeUInt32BE(1, 0);
      this.#buffers.set(key, data);
    }
    this.emit('accessUnit', { data, keyframe, rtpTimestamp: 0, nals: [], ms: 0 } satisfies TapAccessUnit);
  }
}

describe('capture-bridge socket under load (fake tap)', () => {
  let dir: string;
  let sockPath: string;
  let tap: FakeTap;
  let socket: CaptureSocket;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dc-taps-sock-'));
    sockPath = path.join(dir, 's');
    tap = new FakeTap();
    socket = await CaptureSocket.listen({
      path: sockPath,
      tap: tap as unknown as MediaTap,
      screenshot: () => Promise.reject(new Error('no picture: capture is stopped')),
      status: () => ({ ok: true }),
    });
  });

  afterAll(async () => {
    await socket?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is mode 0600, refuses a second listener on the same path, removes its file at close', async () => {
    expect(statSync(sockPath).mode & 0o777).toBe(0o600);
    await expect(CaptureSocket.listen({ path: sockPath, tap: tap as unknown as MediaTap, screenshot: () => Promise.reject(new Error('x')), status: () => ({}) })).rejects.toThrow(/listens there/);
    const other = path.join(dir, 'plain-file');
    await writeFile(other, 'not a socket');
    await expect(CaptureSocket.listen({ path: other, tap: tap as unknown as MediaTap, screenshot: () => Promise.reject(new Error('x')), status: () => ({}) })).rejects.toThrow(/not a socket/);
  });

  it('answers a failed screenshot with length 0 and the reason', async () => {
    expect(await ask(sockPath, 'SCREENSHOT')).toEqual({ payload: Buffer.alloc(0), error: 'no picture: capture is stopped' });
    expect(JSON.parse((await ask(sockPath, 'status')).payload.toString())).toEqual({ ok: true });
  });

  it('a client that never reads costs at most its bound while a flood goes by; then it resumes at a keyframe with whole records', async () => {
    const slow = await openTap(sockPath);
    slow.socket.write('STREAM\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(tap.holders).toBe(1);
    tap.send(false, 1000); // before the first keyframe: not sent
    tap.send(true, 5000);
    expect((await slow.record()).payload.length).toBe(5000);
    slow.socket.pause();
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssMax = rssBefore;
    const flood = 400 * 1024 * 1024;
    const au = 200 * 1024;
    for (let sent = 0, i = 0; sent < flood; sent += au, i++) {
      tap.send((i + 1) % 30 === 0, au);
      if (i % 50 === 0) {
        await new Promise((r) => setImmediate(r));
        rssMax = Math.max(rssMax, process.memoryUsage().rss);
      }
    }
    // unbounded, this would be the whole flood (400 MB); bounded, the backlog plus allocator noise
    expect(rssMax - rssBefore).toBeLessThan(STREAM_BACKLOG_BYTES + 60 * 1024 * 1024);
    slow.socket.resume();
    // drain what was queued (whole records), then the next keyframe reaches it again
    let records = 0;
    const pump = (async () => {
      for (;;) {
        const r = await slow.record(3000);
        records++;
        if (r.payload[4] === 0x65) return r;
      }
    })();
    const feeder = setInterval(() => tap.send(true, 3000), 50);
    const resumed = await pump.finally(() => clearInterval(feeder));
    expect(resumed.payload.length).toBeGreaterThan(0);
    expect(records).toBeGreaterThan(1);
    slow.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(tap.holders).toBe(0);
  });
});
