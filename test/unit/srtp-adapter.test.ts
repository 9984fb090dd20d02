// The libsrtp 3 adapter (scripts/mediasoup-worker/subprojects/libsrtp3) that the
// offline mediasoup worker build uses instead of mediasoup's libsrtp 3 fork.
// A C harness drives it exactly like mediasoup's SrtpSession.cpp; its output is
// checked byte for byte against an independent RFC 3711 implementation below,
// written with node:crypto only (AES_CM_128_HMAC_SHA1_80).
import { execFileSync, spawnSync } from 'node:child_process';
import { createCipheriv, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHIM = join(ROOT, 'scripts/mediasoup-worker/subprojects/libsrtp3');
const HARNESS = join(ROOT, 'scripts/mediasoup-worker/srtp-check/srtp_check.c');

// libsrtp error codes (srtp_err_status_t).
const AUTH_FAIL = 7;
const REPLAY_FAIL = 9;
const BUFFER_SMALL = 28;

const TAG_LEN = 10; // HMAC-SHA1-80
const SRTCP_INDEX_LEN = 4;

// ---------------------------------------------------------------------------
// Independent RFC 3711 reference.
// ---------------------------------------------------------------------------

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function xorInto(target: Buffer, offset: number, bytes: Buffer): void {
  bytes.forEach((b, i) => {
    target.writeUInt8(target.readUInt8(offset + i) ^ b, offset + i);
  });
}

/** §4.1.1 AES-CM keystream: AES(key, IV + i mod 2^128) for i = 0, 1, 2, ... */
function aesCmKeystream(key: Buffer, iv: Buffer, length: number): Buffer {
  const blocks = Math.ceil(length / 16);
  const counters = Buffer.alloc(blocks * 16);
  for (let i = 0; i < blocks; i++) {
    const block = counters.subarray(i * 16, i * 16 + 16);
    iv.copy(block);
    let carry = i;
    for (let b = 15; b >= 0 && carry > 0; b--) {
      const sum = block.readUInt8(b) + (carry & 0xff);
      block.writeUInt8(sum & 0xff, b);
      carry = Math.floor(carry / 256) + (sum >> 8);
    }
  }
  const aes = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  return Buffer.concat([aes.update(counters), aes.final()]).subarray(0, length);
}

/** §4.3.1 key derivation with key_derivation_rate 0: x = (label * 2^48) XOR master_salt, IV = x * 2^16. */
function deriveKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0);
  xorInto(iv, 7, Buffer.from([label]));
  return aesCmKeystream(masterKey, iv, length);
}

interface SessionKeys {
  encKey: Buffer;
  authKey: Buffer;
  salt: Buffer;
}

function sessionKeys(keySalt: Buffer, rtcp: boolean): SessionKeys {
  const masterKey = keySalt.subarray(0, 16);
  const masterSalt = keySalt.subarray(16, 30);
  const base = rtcp ? 3 : 0; // labels 0..2 for SRTP, 3..5 for SRTCP
  return {
    encKey: deriveKey(masterKey, masterSalt, base, 16),
    authKey: deriveKey(masterKey, masterSalt, base + 1, 20),
    salt: deriveKey(masterKey, masterSalt, base + 2, 14),
  };
}

/** IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16), index up to 48 bits. */
function packetIv(salt: Buffer, ssrc: number, index: bigint): Buffer {
  const iv = Buffer.alloc(16);
  salt.copy(iv, 0);
  const ssrcBytes = Buffer.alloc(4);
  ssrcBytes.writeUInt32BE(ssrc);
  xorInto(iv, 4, ssrcBytes);
  const indexBytes = Buffer.alloc(8);
  indexBytes.writeBigUInt64BE(index);
  xorInto(iv, 8, indexBytes.subarray(2)); // low 48 bits
  return iv;
}

function rtpHeaderLength(packet: Buffer): number {
  let length = 12 + 4 * (packet.readUInt8(0) & 0x0f);
  if (packet.readUInt8(0) & 0x10) length += 4 + 4 * packet.readUInt16BE(length + 2);
  return length;
}

/** Sender side of §3.3 with the ROC kept per SSRC (§3.3.1). */
class ReferenceSrtpSender {
  readonly #rtp: SessionKeys;
  readonly #rtcp: SessionKeys;
  readonly #streams = new Map<number, { roc: number; lastSeq: number }>();

  constructor(keySalt: Buffer) {
    this.#rtp = sessionKeys(keySalt, false);
    this.#rtcp = sessionKeys(keySalt, true);
  }

  protectRtp(packet: Buffer): Buffer {
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    const stream = this.#streams.get(ssrc) ?? { roc: 0, lastSeq: seq };
    if (seq < stream.lastSeq && stream.lastSeq - seq > 0x8000) stream.roc += 1; // wrapped
    stream.lastSeq = seq;
    this.#streams.set(ssrc, stream);

    const headerLength = rtpHeaderLength(packet);
    const out = Buffer.from(packet);
    const index = (BigInt(stream.roc) << 16n) | BigInt(seq);
    const iv = packetIv(this.#rtp.salt, ssrc, index);
    xorInto(out, headerLength, aesCmKeystream(this.#rtp.encKey, iv, packet.length - headerLength));
    const roc = Buffer.alloc(4);
    roc.writeUInt32BE(stream.roc);
    const tag = createHmac('sha1', this.#rtp.authKey).update(out).update(roc).digest().subarray(0, TAG_LEN);
    return Buffer.concat([out, tag]);
  }

  /** §3.4: everything after the first 8 bytes is encrypted; E flag + index, then the tag. */
  protectRtcp(packet: Buffer, srtcpIndex: number): Buffer {
    const out = Buffer.from(packet);
    const iv = packetIv(this.#rtcp.salt, packet.readUInt32BE(4), BigInt(srtcpIndex));
    xorInto(out, 8, aesCmKeystream(this.#rtcp.encKey, iv, packet.length - 8));
    const trailer = Buffer.alloc(SRTCP_INDEX_LEN);
    trailer.writeUInt32BE((0x80000000 | srtcpIndex) >>> 0);
    const tag = createHmac('sha1', this.#rtcp.authKey).update(out).update(trailer).digest().subarray(0, TAG_LEN);
    return Buffer.concat([out, trailer, tag]);
  }
}

// ---------------------------------------------------------------------------
// Packets.
// ---------------------------------------------------------------------------

/** Deterministic filler, different per seed. */
function bytes(length: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i * 131 + seed * 17 + 7) & 0xff));
}

interface RtpOptions {
  ssrc: number;
  seq: number;
  payload: Buffer;
  pt?: number;
  marker?: boolean;
  csrcs?: number[];
  /** One-byte header extension elements (RFC 8285), already padded to 32 bits. */
  extension?: Buffer;
}

function rtp({ ssrc, seq, payload, pt = 96, marker = false, csrcs = [], extension }: RtpOptions): Buffer {
  const header = Buffer.alloc(12 + 4 * csrcs.length);
  header.writeUInt8(0x80 | (extension ? 0x10 : 0) | csrcs.length, 0);
  header.writeUInt8((marker ? 0x80 : 0) | pt, 1);
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE((seq * 3000) >>> 0, 4);
  header.writeUInt32BE(ssrc, 8);
  csrcs.forEach((csrc, i) => header.writeUInt32BE(csrc, 12 + 4 * i));
  const parts: Buffer[] = [header];
  if (extension) {
    const extHeader = Buffer.alloc(4);
    extHeader.writeUInt16BE(0xbede, 0);
    extHeader.writeUInt16BE(extension.length / 4, 2);
    parts.push(extHeader, extension);
  }
  return Buffer.concat([...parts, payload]);
}

/** Sender report (no report blocks) + SDES CNAME + PLI: a typical compound packet. */
function rtcpCompound(senderSsrc: number, mediaSsrc: number, seed: number): Buffer {
  const sr = Buffer.alloc(28);
  sr.writeUInt8(0x80, 0);
  sr.writeUInt8(200, 1);
  sr.writeUInt16BE(6, 2);
  sr.writeUInt32BE(senderSsrc, 4);
  bytes(20, seed).copy(sr, 8); // NTP, RTP timestamp, counts
  const cname = Buffer.from('deskcast');
  const sdes = Buffer.alloc(4 + 4 + 2 + cname.length + 2); // + end marker, padded to 32 bits
  sdes.writeUInt8(0x81, 0);
  sdes.writeUInt8(202, 1);
  sdes.writeUInt16BE(sdes.length / 4 - 1, 2);
  sdes.writeUInt32BE(senderSsrc, 4);
  sdes.writeUInt8(1, 8);
  sdes.writeUInt8(cname.length, 9);
  cname.copy(sdes, 10);
  const pli = Buffer.alloc(12);
  pli.writeUInt8(0x81, 0);
  pli.writeUInt8(206, 1);
  pli.writeUInt16BE(2, 2);
  pli.writeUInt32BE(senderSsrc, 4);
  pli.writeUInt32BE(mediaSsrc, 8);
  return Buffer.concat([sr, sdes, pli]);
}

// ---------------------------------------------------------------------------
// Harness.
// ---------------------------------------------------------------------------

type Op = 'protect' | 'unprotect' | 'protect_rtcp' | 'unprotect_rtcp';
type Result = { ok: true; data: Buffer } | { ok: false; code: number };

let workDir = '';
let harness = '';

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'deskcast-srtp-check-'));
  harness = join(workDir, 'srtp_check');
  const libsrtp2 = execFileSync('pkg-config', ['--cflags', '--libs', 'libsrtp2'], { encoding: 'utf8' })
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  execFileSync(
    process.env.CC ?? 'gcc',
    [
      ...['-std=c11', '-O2', '-Wall', '-Wextra', '-I', join(SHIM, 'srtp3')],
      ...[HARNESS, join(SHIM, 'srtp3_adapter.c'), join(SHIM, 'srtp2_bridge.c')],
      ...libsrtp2,
      ...['-o', harness],
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
});

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** One SRTP session (outbound for protect*, inbound for unprotect*), packets in order. */
function run(op: Op, keySalt: Buffer, packets: Buffer[], options: string[] = []): Result[] {
  const args = [...options, op, keySalt.toString('hex'), ...packets.map((p) => p.toString('hex'))];
  const proc = spawnSync(harness, args, { encoding: 'utf8' });
  if (proc.status !== 0) throw new Error(`srtp_check exited ${proc.status}: ${proc.stderr}`);
  return proc.stdout
    .trim()
    .split('\n')
    .map((line): Result => {
      const [status, value = ''] = line.split(' ');
      return status === 'ok' ? { ok: true, data: hex(value) } : { ok: false, code: Number(value) };
    });
}

function okData(results: Result[]): Buffer[] {
  return results.map((r) => {
    if (!r.ok) throw new Error(`libsrtp error ${r.code}`);
    return r.data;
  });
}

const KEY_A = hex('e1f97a0d3e018be0d64fa32c06de4139 0ec675ad498afeebb6960b3aabe6');
const KEY_B = bytes(30, 99);

// ---------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------

describe('RFC 3711 reference (self-check against the RFC test vectors)', () => {
  it('derives the Appendix B.3 session keys', () => {
    const masterKey = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
    const masterSalt = hex('0EC675AD498AFEEBB6960B3AABE6');
    expect(deriveKey(masterKey, masterSalt, 0, 16).toString('hex')).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(deriveKey(masterKey, masterSalt, 2, 14).toString('hex')).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(deriveKey(masterKey, masterSalt, 1, 94).toString('hex')).toBe(
      'cebe321f6ff7716b6fd4ab49af256a156d38baa48f0a0acf3c34e2359e6cdbce' +
        'e049646c43d9327ad175578ef72270986371c10c9a369ac2f94a8c5fbcdddc25' +
        '6d6e919a48b610ef17c2041e474035766b68642c59bbfc2f34db60dbdfb2',
    );
  });

  it('produces the Appendix B.2 AES-CM keystream, including the counter carry', () => {
    const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
    const iv = packetIv(hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'), 0, 0n);
    const stream = aesCmKeystream(key, iv, 0xff02 * 16);
    const block = (n: number) => stream.subarray(n * 16, n * 16 + 16).toString('hex');
    expect(block(0x0000)).toBe('e03ead0935c95e80e166b16dd92b4eb4');
    expect(block(0x0001)).toBe('d23513162b02d0f72a43a2fe4a5f97ab');
    expect(block(0x0002)).toBe('41e95b3bb0a2e8dd477901e4fca894c0');
    expect(block(0xfeff)).toBe('ec8cdf7398607cb0f2d21675ea9ea1e4');
    expect(block(0xff00)).toBe('362b7c3c6773516318a077d7fc5073ae');
    expect(block(0xff01)).toBe('6a2cc3787889374fbeb4c81b17ba6c44');
  });
});

describe('libsrtp 3 adapter over libsrtp2, AES_CM_128_HMAC_SHA1_80', () => {
  // Three streams interleaved in one session, as a transport carries them:
  // audio, video with CSRCs + header extension, and one crossing the 16-bit
  // sequence number rollover (ROC 0 -> 1).
  const packets = [
    rtp({ ssrc: 0x11223344, seq: 1, pt: 111, payload: bytes(160, 1) }),
    rtp({ ssrc: 0xcafebabe, seq: 40000, marker: true, payload: bytes(1200, 2), csrcs: [0x01020304, 0x0a0b0c0d] }),
    rtp({ ssrc: 0xfffffff0, seq: 65533, payload: bytes(1, 3), extension: hex('10ab2201 02030000') }),
    rtp({ ssrc: 0x11223344, seq: 2, pt: 111, payload: bytes(0, 4) }),
    rtp({ ssrc: 0xfffffff0, seq: 65534, payload: bytes(17, 5) }),
    rtp({ ssrc: 0xfffffff0, seq: 65535, payload: bytes(999, 6) }),
    rtp({ ssrc: 0xcafebabe, seq: 40001, payload: bytes(31, 7), csrcs: [0x01020304] }),
    rtp({ ssrc: 0xfffffff0, seq: 0, payload: bytes(100, 8) }),
    rtp({ ssrc: 0xfffffff0, seq: 1, marker: true, payload: bytes(1188, 9) }),
    rtp({ ssrc: 0x11223344, seq: 3, pt: 111, payload: bytes(160, 10) }),
  ];

  for (const [name, keySalt] of [
    ['RFC 3711 B.3 master key', KEY_A],
    ['another master key', KEY_B],
  ] as const) {
    it(`protects RTP byte-identically to RFC 3711 (${name})`, () => {
      const reference = new ReferenceSrtpSender(keySalt);
      const expected = packets.map((p) => reference.protectRtp(p).toString('hex'));
      const actual = okData(run('protect', keySalt, packets)).map((p) => p.toString('hex'));
      expect(actual).toEqual(expected);
    });
  }

  it('unprotects RFC 3711 packets back to the originals, across the rollover', () => {
    const reference = new ReferenceSrtpSender(KEY_B);
    const protectedPackets = packets.map((p) => reference.protectRtp(p));
    const actual = okData(run('unprotect', KEY_B, protectedPackets));
    expect(actual.map((p) => p.toString('hex'))).toEqual(packets.map((p) => p.toString('hex')));
  });

  it('round-trips its own output (protect, then unprotect)', () => {
    const protectedPackets = okData(run('protect', KEY_A, packets));
    const plain = okData(run('unprotect', KEY_A, protectedPackets));
    expect(plain.map((p) => p.toString('hex'))).toEqual(packets.map((p) => p.toString('hex')));
  });

  it('rejects tampered packets (payload, header, tag) and replays', () => {
    const [first, second] = okData(run('protect', KEY_A, packets.slice(0, 2)));
    if (!first || !second) throw new Error('protect gave no output');
    const flip = (p: Buffer, at: number) => {
      const copy = Buffer.from(p);
      copy.writeUInt8(copy.readUInt8(at) ^ 0x01, at);
      return copy;
    };
    const results = run('unprotect', KEY_A, [
      flip(first, 20), // payload
      flip(first, 5), // RTP timestamp
      flip(first, first.length - 1), // auth tag
      first.subarray(0, first.length - 1), // truncated tag
      first, // the genuine packet still passes after the failures...
      first, // ...once: then it is a replay
      second,
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual([
      AUTH_FAIL,
      AUTH_FAIL,
      AUTH_FAIL,
      AUTH_FAIL,
      'ok',
      REPLAY_FAIL,
      'ok',
    ]);
  });

  it('lets a packet be protected twice (mediasoup resends RTP without RTX)', () => {
    const packet = packets[1]!;
    const [once, twice] = okData(run('protect', KEY_A, [packet, packet]));
    expect(twice?.toString('hex')).toBe(once?.toString('hex'));
  });

  it('returns buffer_small (28) when the output buffer cannot take the auth tag', () => {
    const packet = packets[0]!;
    const tooSmall = run('protect', KEY_A, [packet], ['-n', String(packet.length + TAG_LEN - 1)]);
    expect(tooSmall).toEqual([{ ok: false, code: BUFFER_SMALL }]);
    const exact = okData(run('protect', KEY_A, [packet], ['-n', String(packet.length + TAG_LEN)]));
    expect(exact[0]?.toString('hex')).toBe(new ReferenceSrtpSender(KEY_A).protectRtp(packet).toString('hex'));

    const rtcp = rtcpCompound(0x11223344, 0xcafebabe, 1);
    const rtcpTooSmall = run('protect_rtcp', KEY_A, [rtcp], ['-n', String(rtcp.length + SRTCP_INDEX_LEN + TAG_LEN - 1)]);
    expect(rtcpTooSmall).toEqual([{ ok: false, code: BUFFER_SMALL }]);
    const rtcpExact = run('protect_rtcp', KEY_A, [rtcp], ['-n', String(rtcp.length + SRTCP_INDEX_LEN + TAG_LEN)]);
    expect(rtcpExact[0]?.ok).toBe(true);
  });

  describe('SRTCP', () => {
    const rtcpPackets = [
      rtcpCompound(0x11223344, 0xcafebabe, 1),
      rtcpCompound(0xcafebabe, 0x11223344, 2),
      rtcpCompound(0x11223344, 0xfffffff0, 3),
    ];

    it('protects RTCP byte-identically to RFC 3711, with the E flag and consecutive indexes', () => {
      const actual = okData(run('protect_rtcp', KEY_B, rtcpPackets));
      const reference = new ReferenceSrtpSender(KEY_B);
      const indexes: number[] = [];
      actual.forEach((out, i) => {
        const packet = rtcpPackets[i]!;
        expect(out.length).toBe(packet.length + SRTCP_INDEX_LEN + TAG_LEN);
        const eAndIndex = out.readUInt32BE(packet.length);
        expect(eAndIndex >>> 31).toBe(1); // encrypted
        const index = eAndIndex & 0x7fffffff;
        indexes.push(index);
        expect(out.toString('hex')).toBe(reference.protectRtcp(packet, index).toString('hex'));
      });
      // One SRTCP index counter per SSRC, incremented by one per packet.
      expect(indexes[1]).toBe(indexes[0]);
      expect(indexes[2]).toBe(indexes[0]! + 1);
    });

    it('unprotects RFC 3711 SRTCP packets and rejects tampered or replayed ones', () => {
      const reference = new ReferenceSrtpSender(KEY_A);
      const [a, b, c] = rtcpPackets.map((p, i) => reference.protectRtcp(p, 5 + i));
      if (!a || !b || !c) throw new Error('no packets');
      const tampered = Buffer.from(b);
      tampered.writeUInt8(tampered.readUInt8(12) ^ 0x80, 12);
      const results = run('unprotect_rtcp', KEY_A, [a, tampered, b, c, a]);
      expect(results.map((r) => (r.ok ? r.data.toString('hex') : r.code))).toEqual([
        rtcpPackets[0]!.toString('hex'),
        AUTH_FAIL,
        rtcpPackets[1]!.toString('hex'),
        rtcpPackets[2]!.toString('hex'),
        REPLAY_FAIL,
      ]);
    });
  });
});

describe('libsrtp 3 adapter, the other profiles mediasoup negotiates', () => {
  // No independent reference here: round trip and trailer sizes only.
  for (const [profile, keySaltLength, rtpTrailer, rtcpTrailer] of [
    ['AES_CM_128_HMAC_SHA1_32', 30, 4, 14],
    ['AEAD_AES_128_GCM', 28, 16, 20],
    ['AEAD_AES_256_GCM', 44, 16, 20],
  ] as const) {
    it(`${profile} round-trips RTP and RTCP`, () => {
      const key = bytes(keySaltLength, keySaltLength);
      const packet = rtp({ ssrc: 0x5eed, seq: 7, payload: bytes(300, 1) });
      const rtcp = rtcpCompound(0x5eed, 0x1234, 4);
      const [srtp] = okData(run('protect', key, [packet], ['-p', profile]));
      const [srtcp] = okData(run('protect_rtcp', key, [rtcp], ['-p', profile]));
      expect(srtp?.length).toBe(packet.length + rtpTrailer);
      expect(srtcp?.length).toBe(rtcp.length + rtcpTrailer);
      expect(okData(run('unprotect', key, [srtp!], ['-p', profile]))[0]?.toString('hex')).toBe(packet.toString('hex'));
      expect(okData(run('unprotect_rtcp', key, [srtcp!], ['-p', profile]))[0]?.toString('hex')).toBe(
        rtcp.toString('hex'),
      );
    });
  }
});
