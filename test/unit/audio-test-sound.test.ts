// The embedded desktop's chime: a valid WAV whose notes are the advertised ones, soft, looping cleanly.
import { describe, expect, it } from 'vitest';
import { CHIME_NOTES_HZ, CHIME_NOTE_STARTS_MS, encodeWav, renderChimeWav } from '../../server/audio/testSound.js';
import { dominantFrequency, toMono } from '../helpers/pulse.js';

describe('renderChimeWav', () => {
  const wav = renderChimeWav({ periodMs: 3000 });
  const pcm = wav.subarray(44);

  it('is a 48 kHz 16-bit stereo PCM WAV of one period', () => {
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wav.toString('ascii', 8, 16)).toBe('WAVEfmt ');
    expect(wav.readUInt16LE(20)).toBe(1); // PCM
    expect(wav.readUInt16LE(22)).toBe(2);
    expect(wav.readUInt32LE(24)).toBe(48_000);
    expect(wav.readUInt16LE(34)).toBe(16);
    expect(wav.toString('ascii', 36, 40)).toBe('data');
    expect(wav.readUInt32LE(40)).toBe(3 * 48_000 * 4);
  });

  it('plays its two notes in order, softly, and ends in silence (no click at the loop point)', () => {
    const mono = toMono(pcm);
    const at = (ms: number, len = 0.15) => mono.subarray((ms / 1000) * 48_000, (ms / 1000 + len) * 48_000);
    const first = dominantFrequency(at((CHIME_NOTE_STARTS_MS[0] ?? 0) + 20), 200, 2000);
    const second = dominantFrequency(at((CHIME_NOTE_STARTS_MS[1] ?? 0) + 150), 200, 2000);
    expect(Math.abs(first.hz - CHIME_NOTES_HZ[0])).toBeLessThanOrEqual(8);
    expect(Math.abs(second.hz - CHIME_NOTES_HZ[1])).toBeLessThanOrEqual(8);
    let peak = 0;
    for (const v of mono) peak = Math.max(peak, Math.abs(v));
    expect(peak).toBeGreaterThan(0.1);
    expect(peak).toBeLessThan(0.35);
    // the last second is silence, and the first sample starts at zero: seamless loop
    expect(Math.max(...at(2000, 1).map(Math.abs))).toBe(0);
    expect(Math.abs(mono[0] ?? 1)).toBeLessThan(0.001);
  });

  it('rejects nonsense options', () => {
    expect(() => renderChimeWav({ periodMs: 100 })).toThrow(RangeError);
    expect(() => renderChimeWav({ level: 2 })).toThrow(RangeError);
  });

  it('encodeWav clips out-of-range samples instead of wrapping', () => {
    const w = encodeWav(new Float64Array([2, -2]), 48_000, 1);
    expect(w.readInt16LE(44)).toBe(32767);
    expect(w.readInt16LE(46)).toBe(-32768);
  });
});
