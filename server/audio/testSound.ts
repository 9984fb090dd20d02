// A soft two-note chime ("ding-dong") rendered in memory as a WAV file, so the embedded desktop
// has something audible without a binary asset in the repository.

export interface ChimeOptions {
  /** Length of one loop: the chime (about 1.2 s) followed by silence. Default 3000 ms. */
  periodMs?: number;
  /** Peak level of each note, 0..1. Default 0.2 (about -14 dBFS: soft). */
  level?: number;
  sampleRate?: number;
}

/** The chime's two notes (E5, C5) in Hz, in the order they sound. */
export const CHIME_NOTES_HZ = [659.25, 523.25] as const;
/** When each note starts within the loop, in ms. */
export const CHIME_NOTE_STARTS_MS = [0, 450] as const;

/** Renders one loop of the chime as a 16-bit stereo PCM WAV file. */
export function renderChimeWav(options: ChimeOptions = {}): Buffer {
  const rate = options.sampleRate ?? 48_000;
  const periodMs = options.periodMs ?? 3000;
  const level = options.level ?? 0.2;
  if (!(periodMs >= 1500 && periodMs <= 600_000)) throw new RangeError('periodMs must be between 1500 and 600000');
  if (!(level > 0 && level <= 1)) throw new RangeError('level must be in (0, 1]');
  const frames = Math.round((rate * periodMs) / 1000);
  const pcm = new Float64Array(frames);
  CHIME_NOTES_HZ.forEach((hz, n) => {
    const start = Math.round((rate * (CHIME_NOTE_STARTS_MS[n] ?? 0)) / 1000);
    const length = Math.min(frames - start, Math.round(rate * 1.1));
    for (let i = 0; i < length; i++) {
      const t = i / rate;
      const attack = Math.min(1, t / 0.005); // 5 ms attack: no click
      const release = Math.min(1, (length - i) / (rate * 0.05)); // 50 ms fade at the end
      const envelope = attack * release * Math.exp(-t / 0.35);
      // fundamental plus a soft octave partial: bell-like, not a bare sine
      const v = Math.sin(2 * Math.PI * hz * t) + 0.25 * Math.sin(2 * Math.PI * 2 * hz * t) * Math.exp(-t / 0.15);
      pcm[start + i] = (pcm[start + i] ?? 0) + (level / 1.25) * envelope * v;
    }
  });
  return encodeWav(pcm, rate, 2);
}

/** 16-bit PCM WAV of mono `samples` (-1..1) duplicated onto `channels` channels. */
export function encodeWav(samples: Float64Array, sampleRate: number, channels = 2): Buffer {
  const dataBytes = samples.length * channels * 2;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16); // fmt chunk size
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * channels * 2, 28); // byte rate
  buf.writeUInt16LE(channels * 2, 32); // block align
  buf.writeUInt16LE(16, 34); // bits per sample
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  let offset = 44;
  for (const s of samples) {
    const v = Math.max(-32768, Math.min(32767, Math.round(s * 32767)));
    for (let c = 0; c < channels; c++) {
      buf.writeInt16LE(v, offset);
      offset += 2;
    }
  }
  return buf;
}
