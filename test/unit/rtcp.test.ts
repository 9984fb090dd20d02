import { describe, expect, it } from 'vitest';
import { loadNative } from '../helpers/native.js';
import { buildFir, buildPli, buildReceiverReport, buildSdes, ntpToUnixMs, parseSenderReport } from '../helpers/rtp.js';

const { __test: native } = loadNative();
const OURS = 0x1234abcd;
const PEER = 0x0badf00d;

describe('RTCP sender report (native)', () => {
  it('builds SR + SDES CNAME with the right fields and padding', () => {
    for (const cname of ['a', 'ab', 'abc', 'abcd', 'deskcast-video-0123456789', 'x'.repeat(255)]) {
      const sr = native.buildSr({ ssrc: OURS, ntpTimestamp: 0xe1234567_89abcdefn, rtpTimestamp: 0xfedcba98, packetCount: 1234, octetCount: 987654, cname });
      expect(sr.length % 4).toBe(0);
      // SR: V=2, P=0, RC=0, PT=200, length 6 (28 bytes)
      expect(sr[0]).toBe(0x80);
      expect(sr[1]).toBe(200);
      expect(sr.readUInt16BE(2)).toBe(6);
      expect(sr.readUInt32BE(4)).toBe(OURS);
      expect(sr.readBigUInt64BE(8)).toBe(0xe1234567_89abcdefn);
      expect(sr.readUInt32BE(16)).toBe(0xfedcba98);
      expect(sr.readUInt32BE(20)).toBe(1234);
      expect(sr.readUInt32BE(24)).toBe(987654);
      // SDES: V=2, SC=1, PT=202, CNAME item, terminated by a null item, padded to 32 bits
      const sdes = sr.subarray(28);
      expect(sdes[0]).toBe(0x81);
      expect(sdes[1]).toBe(202);
      expect((sdes.readUInt16BE(2) + 1) * 4).toBe(sdes.length);
      expect(sdes.readUInt32BE(4)).toBe(OURS);
      expect(sdes[8]).toBe(1);
      expect(sdes[9]).toBe(Buffer.byteLength(cname));
      expect(sdes.subarray(10, 10 + cname.length).toString()).toBe(cname);
      const tail = sdes.subarray(10 + cname.length);
      expect(tail.length).toBeGreaterThanOrEqual(1);
      expect(tail.length).toBeLessThanOrEqual(4);
      expect([...tail].every((b) => b === 0)).toBe(true);
      // Our parser and the test's agree, and the native parser accepts it as a valid compound.
      expect(parseSenderReport(sr)?.cname).toBe(cname);
      expect(native.parseRtcp(sr, OURS)).toMatchObject({ malformed: false, packets: 2, senderReports: 1, pli: 0, fir: 0 });
    }
  });

  it('rejects CNAMEs it cannot encode', () => {
    expect(() => native.buildSr({ ssrc: 1, rtpTimestamp: 0, packetCount: 0, octetCount: 0, cname: '' })).toThrow(/cname/);
    expect(() => native.buildSr({ ssrc: 1, rtpTimestamp: 0, packetCount: 0, octetCount: 0, cname: 'x'.repeat(256) })).toThrow(/cname/);
  });

  it('derives NTP and RTP times from one media clock (90 kHz and 48 kHz share it)', () => {
    const c0 = native.mediaClock();
    expect(Math.abs(ntpToUnixMs(c0.ntp) - Date.now())).toBeLessThan(1000);
    const oneSecondLater = native.mediaClock(c0.monoNs + 1_000_000_000n);
    expect(oneSecondLater.ntp - c0.ntp).toBe(1n << 32n);
    expect((oneSecondLater.rtp90k - c0.rtp90k) >>> 0).toBe(90000);
    expect((oneSecondLater.rtp48k - c0.rtp48k) >>> 0).toBe(48000);
    // At the epoch both clocks read 0 (offset 0): audio and video are aligned by construction.
    const epoch = native.mediaClock(c0.epochMonoNs);
    expect(epoch.rtp90k).toBe(0);
    expect(epoch.rtp48k).toBe(0);
    // Before the epoch the timestamps wrap modulo 2^32 instead of misbehaving.
    expect(native.mediaClock(c0.epochMonoNs - 1_000_000_000n).rtp90k).toBe(2 ** 32 - 90000);
  });
});

describe('RTCP feedback parsing (native)', () => {
  it('detects a PLI addressed to our SSRC, alone (RFC 5506) and in a compound packet', () => {
    expect(native.parseRtcp(buildPli(PEER, OURS), OURS)).toMatchObject({ malformed: false, packets: 1, pli: 1, fir: 0 });
    const compound = Buffer.concat([buildReceiverReport(PEER), buildSdes(PEER, 'mediasoup'), buildPli(PEER, OURS)]);
    expect(native.parseRtcp(compound, OURS)).toMatchObject({ malformed: false, packets: 3, receiverReports: 1, pli: 1 });
  });

  it('ignores a PLI for another SSRC', () => {
    expect(native.parseRtcp(buildPli(PEER, OURS + 1), OURS)).toMatchObject({ malformed: false, pli: 0, ignoredFeedback: 1 });
  });

  it('detects a FIR entry for our SSRC among several and reports its sequence number', () => {
    const fir = buildFir(PEER, [{ ssrc: 111, seq: 1 }, { ssrc: OURS, seq: 42 }, { ssrc: 222, seq: 3 }]);
    expect(native.parseRtcp(fir, OURS)).toMatchObject({ malformed: false, fir: 1, lastFirSeq: 42, ignoredFeedback: 2 });
    expect(native.parseRtcp(buildFir(PEER, [{ ssrc: 7, seq: 1 }]), OURS)).toMatchObject({ malformed: false, fir: 0 });
    const both = Buffer.concat([buildReceiverReport(PEER), buildPli(PEER, OURS), buildFir(PEER, [{ ssrc: OURS, seq: 9 }])]);
    expect(native.parseRtcp(both, OURS)).toMatchObject({ malformed: false, packets: 3, pli: 1, fir: 1, lastFirSeq: 9 });
  });

  it('counts generic NACKs and tolerates other feedback (REMB) without acting', () => {
    const nack = buildPli(PEER, OURS);
    nack[0] = 0x81; // FMT 1
    nack[1] = 205; // RTPFB
    const withFci = Buffer.concat([nack, Buffer.from([0, 5, 0, 0])]);
    withFci.writeUInt16BE(3, 2);
    expect(native.parseRtcp(withFci, OURS)).toMatchObject({ malformed: false, nack: 1, pli: 0 });
    const remb = Buffer.concat([buildPli(PEER, 0), Buffer.from('REMB'), Buffer.from([1, 0, 0x10, 0]), Buffer.alloc(4)]);
    remb[0] = 0x80 | 15;
    remb.writeUInt16BE(remb.length / 4 - 1, 2);
    expect(native.parseRtcp(remb, OURS)).toMatchObject({ malformed: false, pli: 0, fir: 0, ignoredFeedback: 1 });
  });

  it('rejects truncated and malformed packets as a whole (no feedback acted upon)', () => {
    const pli = buildPli(PEER, OURS);
    const cases: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['3 bytes', pli.subarray(0, 3)],
      ['not a multiple of 4', Buffer.concat([pli, Buffer.from([0])])],
      ['truncated PLI', pli.subarray(0, 8)],
      ['length field beyond the datagram', Buffer.concat([buildReceiverReport(PEER), pli]).subarray(0, 16)],
      ['version 1', Buffer.from(pli.map((b, i) => (i === 0 ? 0x41 : b)))],
      ['payload type outside RTCP', Buffer.from(pli.map((b, i) => (i === 1 ? 96 : b)))],
      ['PLI with length 1 (no media SSRC)', Buffer.from([0x81, 206, 0, 1, 0, 0, 0, 1])],
      ['FIR with a half FCI entry', (() => { const f = buildFir(PEER, [{ ssrc: OURS, seq: 1 }]).subarray(0, 16); f.writeUInt16BE(3, 2); return f; })()],
      ['padding on a non-final packet', Buffer.concat([Buffer.from(pli.map((b, i) => (i === 0 ? b | 0x20 : b))), buildReceiverReport(PEER)])],
      ['padding count larger than the packet', (() => { const p = Buffer.from(pli); p[0]! |= 0x20; p[11] = 200; return p; })()],
      ['valid PLI followed by garbage', Buffer.concat([pli, Buffer.from([0xde, 0xad, 0xbe, 0xef])])],
      ['SR shorter than its report count says', (() => { const sr = native.buildSr({ ssrc: PEER, rtpTimestamp: 0, packetCount: 0, octetCount: 0, cname: 'x' }); sr[0] = 0x81; return sr; })()],
    ];
    for (const [name, datagram] of cases) {
      const r = native.parseRtcp(datagram, OURS);
      expect({ name, malformed: r.malformed, pli: r.pli, fir: r.fir }).toEqual({ name, malformed: true, pli: 0, fir: 0 });
    }
  });

  it('survives random garbage (fuzz) and mutated valid packets', () => {
    let x = 12345;
    const rand = (): number => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x;
    };
    const valid = Buffer.concat([buildReceiverReport(PEER), buildPli(PEER, OURS), buildFir(PEER, [{ ssrc: OURS, seq: 1 }])]);
    for (let i = 0; i < 20000; i++) {
      let datagram: Buffer;
      if (i % 2) {
        datagram = Buffer.alloc(rand() % 64);
        for (let j = 0; j < datagram.length; j++) datagram[j] = rand() & 0xff;
      } else {
        datagram = Buffer.from(valid.subarray(0, rand() % (valid.length + 1)));
        if (datagram.length) datagram[rand() % datagram.length] = rand() & 0xff;
      }
      const r = native.parseRtcp(datagram, OURS);
      if (r.malformed) expect(r.pli + r.fir + r.packets).toBe(0);
    }
  });

  it('demultiplexes RTCP from RTP by payload type (RFC 5761)', () => {
    expect(native.parseRtcp(buildPli(PEER, OURS), OURS).isRtcp).toBe(true);
    const rtp = Buffer.from([0x80, 0x80 | 102, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(native.parseRtcp(rtp, OURS).isRtcp).toBe(false);
  });
});
