// A minimal Matroska muxer for the recorder: H.264 (AVC, length-prefixed) + Opus, written as a
// stream of self-contained clusters so a file cut short (deskcast killed) still plays up to its
// last complete cluster. Element IDs and layout: RFC 9559 (Matroska) and the codec mappings
// (V_MPEG4/ISO/AVC, A_OPUS).

const ID = {
  EBML: 0x1a45dfa3, EBMLVersion: 0x4286, EBMLReadVersion: 0x42f7, EBMLMaxIDLength: 0x42f2, EBMLMaxSizeLength: 0x42f3,
  DocType: 0x4282, DocTypeVersion: 0x4287, DocTypeReadVersion: 0x4285,
  Segment: 0x18538067, Info: 0x1549a966, TimestampScale: 0x2ad7b1, MuxingApp: 0x4d80, WritingApp: 0x5741, Duration: 0x4489, DateUTC: 0x4461,
  Tracks: 0x1654ae6b, TrackEntry: 0xae, TrackNumber: 0xd7, TrackUID: 0x73c5, TrackType: 0x83, FlagLacing: 0x9c, CodecID: 0x86,
  CodecPrivate: 0x63a2, CodecDelay: 0x56aa, SeekPreRoll: 0x56bb, Video: 0xe0, PixelWidth: 0xb0, PixelHeight: 0xba,
  Audio: 0xe1, SamplingFrequency: 0xb5, Channels: 0x9f, Cluster: 0x1f43b675, Timestamp: 0xe7, SimpleBlock: 0xa3, Void: 0xec,
} as const;

export const VIDEO_TRACK = 1;
export const AUDIO_TRACK = 2;
/** Opus pre-skip at 48 kHz (libopus' usual 312 samples = 6.5 ms). */
const OPUS_PRE_SKIP = 312;
/** Milliseconds between 1970 and Matroska's epoch (2001-01-01). */
const MATROSKA_EPOCH_MS = Date.UTC(2001, 0, 1);

function idBytes(id: number): Buffer {
  const len = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  const b = Buffer.alloc(len);
  b.writeUIntBE(id, 0, len);
  return b;
}

/** EBML variable-size integer, in the fewest bytes (or exactly `width`). */
function vint(n: number, width?: number): Buffer {
  let len = 1;
  while (n >= 2 ** (7 * len) - 1) len++;
  len = Math.max(len, width ?? 0);
  const b = Buffer.alloc(len);
  let v = n;
  for (let i = len - 1; i >= 0; i--) {
    b[i] = v % 256;
    v = Math.floor(v / 256);
  }
  b[0]! |= 0x80 >> (len - 1);
  return b;
}

function element(id: number, ...children: Buffer[]): Buffer {
  const body = Buffer.concat(children);
  return Buffer.concat([idBytes(id), vint(body.length), body]);
}

function uint(id: number, n: number): Buffer {
  let len = 1;
  while (len < 8 && n >= 2 ** (8 * len)) len++;
  const b = Buffer.alloc(len);
  let v = n;
  for (let i = len - 1; i >= 0; i--) {
    b[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return element(id, b);
}

function int64(id: number, n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return element(id, b);
}

function float(id: number, x: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(x);
  return element(id, b);
}

function text(id: number, s: string): Buffer {
  return element(id, Buffer.from(s, 'utf8'));
}

/** AVCDecoderConfigurationRecord (ISO 14496-15) from one SPS and one PPS. */
function avcDecoderConfig(sps: Buffer, pps: Buffer): Buffer {
  const len = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([1, sps[1]!, sps[2]!, sps[3]!, 0xff, 0xe1]), len(sps.length), sps, Buffer.from([1]), len(pps.length), pps]);
}

/** The Opus identification header (RFC 7845 §5.1), the CodecPrivate of A_OPUS. */
export function opusHead(channels: number): Buffer {
  const b = Buffer.alloc(19);
  b.write('OpusHead', 0, 'latin1');
  b[8] = 1;
  b[9] = channels;
  b.writeUInt16LE(OPUS_PRE_SKIP, 10);
  b.writeUInt32LE(48_000, 12);
  return b;
}

export interface MatroskaHeaderOptions {
  width: number;
  height: number;
  sps: Buffer;
  pps: Buffer;
  audioChannels: number;
  startedAt: Date;
}

/** Where the header leaves room to be completed when the file is closed cleanly. */
export interface MatroskaHeaderLayout {
  /** Offset of the Segment's 8-byte size (unknown until closed). */
  segmentSizeOffset: number;
  /** Offset of the Segment's body. */
  segmentDataOffset: number;
  /** Offset of an 11-byte Void that becomes the Duration element. */
  durationOffset: number;
}

/** EBML header, Segment (unknown size), Info and Tracks. */
export function matroskaHeader(o: MatroskaHeaderOptions): { bytes: Buffer; layout: MatroskaHeaderLayout } {
  const ebml = element(
    ID.EBML,
    uint(ID.EBMLVersion, 1), uint(ID.EBMLReadVersion, 1), uint(ID.EBMLMaxIDLength, 4), uint(ID.EBMLMaxSizeLength, 8),
    text(ID.DocType, 'matroska'), uint(ID.DocTypeVersion, 4), uint(ID.DocTypeReadVersion, 2),
  );
  const segmentHead = Buffer.concat([idBytes(ID.Segment), Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]);
  const infoFixed = Buffer.concat([
    uint(ID.TimestampScale, 1_000_000), // block timestamps in ms
    text(ID.MuxingApp, 'deskcast'), text(ID.WritingApp, 'deskcast'),
    int64(ID.DateUTC, BigInt(o.startedAt.getTime() - MATROSKA_EPOCH_MS) * 1_000_000n),
  ]);
  const durationPlaceholder = Buffer.concat([Buffer.from([ID.Void, 0x89]), Buffer.alloc(9)]); // same 11 bytes as Duration
  const info = element(ID.Info, infoFixed, durationPlaceholder);
  const tracks = element(
    ID.Tracks,
    element(
      ID.TrackEntry,
      uint(ID.TrackNumber, VIDEO_TRACK), uint(ID.TrackUID, VIDEO_TRACK), uint(ID.TrackType, 1), uint(ID.FlagLacing, 0),
      text(ID.CodecID, 'V_MPEG4/ISO/AVC'), element(ID.CodecPrivate, avcDecoderConfig(o.sps, o.pps)),
      element(ID.Video, uint(ID.PixelWidth, o.width), uint(ID.PixelHeight, o.height)),
    ),
    element(
      ID.TrackEntry,
      uint(ID.TrackNumber, AUDIO_TRACK), uint(ID.TrackUID, AUDIO_TRACK), uint(ID.TrackType, 2), uint(ID.FlagLacing, 0),
      text(ID.CodecID, 'A_OPUS'), element(ID.CodecPrivate, opusHead(o.audioChannels)),
      uint(ID.CodecDelay, Math.round((OPUS_PRE_SKIP / 48_000) * 1e9)), uint(ID.SeekPreRoll, 80_000_000),
      element(ID.Audio, float(ID.SamplingFrequency, 48_000), uint(ID.Channels, o.audioChannels)),
    ),
  );
  const segmentDataOffset = ebml.length + segmentHead.length;
  const infoHeaderLength = info.length - infoFixed.length - durationPlaceholder.length;
  return {
    bytes: Buffer.concat([ebml, segmentHead, info, tracks]),
    layout: {
      segmentSizeOffset: ebml.length + 4,
      segmentDataOffset,
      durationOffset: segmentDataOffset + infoHeaderLength + infoFixed.length,
    },
  };
}

/** The 8-byte Segment size written over the "unknown" marker when the file is closed. */
export function segmentSize(bytes: number): Buffer {
  return vint(bytes, 8);
}

/** The Duration element (ms, as a float) that replaces the header's Void. */
export function durationElement(ms: number): Buffer {
  return float(ID.Duration, ms);
}

/** Reads the Duration (seconds) from the start of a file this muxer wrote; undefined if absent. */
export function readDuration(head: Buffer): number | undefined {
  const marker = Buffer.from([0x44, 0x89, 0x88]);
  const at = head.indexOf(marker);
  if (at < 0 || at + 11 > head.length) return undefined;
  return head.readDoubleBE(at + 3) / 1000;
}

export interface Block {
  track: number;
  /** ms on the file's timeline. */
  time: number;
  keyframe: boolean;
  data: Buffer;
}

/** A cluster holding `blocks` (which must span less than 32 s), timestamped at its first block. */
export function cluster(blocks: Block[]): Buffer {
  const base = Math.max(0, Math.round(Math.min(...blocks.map((b) => b.time))));
  const parts = [uint(ID.Timestamp, base)];
  for (const b of blocks) {
    const head = Buffer.alloc(4);
    head[0] = 0x80 | b.track; // track number as a 1-byte vint
    head.writeInt16BE(Math.max(-32768, Math.min(32767, Math.round(b.time) - base)), 1);
    head[3] = b.keyframe ? 0x80 : 0;
    parts.push(element(ID.SimpleBlock, head, b.data));
  }
  return element(ID.Cluster, ...parts);
}

/** H.264 NAL units as AVC length-prefixed sample data (4-byte lengths). */
export function avcSample(nals: Buffer[]): Buffer {
  return Buffer.concat(
    nals.flatMap((n) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(n.length);
      return [len, n];
    }),
  );
}
