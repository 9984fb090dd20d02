import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { helpText, parseSettings, SettingsError } from '../../server/settings/parseSettings.js';
import { settingsTable } from '../../server/settings/settingsTable.js';

describe('settings', () => {
  it('uses the table defaults when nothing is given', () => {
    const s = parseSettings([], {});
    expect(s.port).toBe(8443);
    expect(s.fps).toBe(30);
    expect(s.encoder).toBe('auto');
    expect(s.workers).toBeUndefined();
    expect(s.embeddedSize).toEqual({ width: 1280, height: 720 });
  });

  it('takes flags in both forms, and flags win over env vars and config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deskcast-settings-'));
    const config = join(dir, 'c.json');
    writeFileSync(config, JSON.stringify({ port: 7000, fps: 15, bitrate: 900 }));
    const s = parseSettings(['--port', '9443', '--display=:5', '--config', config], { DESKCAST_FPS: '60' });
    expect(s.port).toBe(9443); // flag over config
    expect(s.display).toBe(':5');
    expect(s.fps).toBe(60); // env over config
    expect(s.bitrate).toBe(900); // config over default
  });

  it('rejects bad values with a message naming the flag and what it accepts', () => {
    expect(() => parseSettings(['--port', 'eighty'], {})).toThrow(/--port must be a whole number from 0 to 65535; got "eighty"/);
    expect(() => parseSettings(['--fps', '0'], {})).toThrow(/--fps must be a whole number from 1 to 120/);
    expect(() => parseSettings(['--encoder', 'openh264'], {})).toThrow(/--encoder must be one of auto, x264, nvenc, vaapi/);
    expect(() => parseSettings([], { DESKCAST_MAX_VIEWERS: '-3' })).toThrow(/\$DESKCAST_MAX_VIEWERS must be a whole number/);
    expect(() => parseSettings(['--embedded-size', '10x10'], {})).toThrow(/WIDTHxHEIGHT/);
    expect(() => parseSettings(['--bogus'], {})).toThrow(/Unknown flag --bogus/);
    expect(() => parseSettings(['--port'], {})).toThrow(/--port needs a value/);
    expect(() => parseSettings(['stray'], {})).toThrow(SettingsError);
    expect(() => parseSettings(['--tls-cert', '/x.pem'], {})).toThrow(/--tls-cert and --tls-key go together/);
  });

  it('rejects a broken config file clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deskcast-settings-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"port": 80,');
    expect(() => parseSettings(['--config', bad], {})).toThrow(/is not valid JSON/);
    writeFileSync(bad, '{"prot": 80}');
    expect(() => parseSettings(['--config', bad], {})).toThrow(/Unknown setting "prot"/);
    expect(() => parseSettings(['--config', join(dir, 'missing.json')], {})).toThrow(/Cannot read the config file/);
  });

  it('help lists every flag with its env var', () => {
    const text = helpText();
    for (const def of settingsTable) {
      expect(text).toContain(`--${def.flag}`);
      expect(text).toContain(def.env);
    }
  });
});

describe('audio settings', () => {
  it('turns audio off with --no-audio and reads the audio flags', () => {
    expect(parseSettings([], {}).audio).toBe(true);
    expect(parseSettings(['--no-audio'], {}).audio).toBe(false);
    expect(parseSettings([], { DESKCAST_AUDIO: 'false' }).audio).toBe(false);
    const s = parseSettings(['--audio-app', 'Firefox', '--audio-bitrate', '96'], {});
    expect(s.audioApp).toBe('Firefox');
    expect(s.audioBitrate).toBe(96);
    expect(() => parseSettings(['--audio-bitrate', '5'], {})).toThrow(/--audio-bitrate must be a whole number from 16 to 510/);
    expect(() => parseSettings(['--no-port'], {})).toThrow(/--no-port is not a switch/);
  });
});

describe('--mic and --codecs', () => {
  it('--mic alone uses the default source; --mic-source names one and turns the mic on; --mic-volume is a percentage', () => {
    const off = parseSettings([], {});
    expect([off.mic, off.micSource, off.micVolume]).toEqual([false, '', 100]);
    expect(parseSettings(['--mic'], {}).mic).toBe(true);
    const named = parseSettings(['--mic-source', 'alsa_input.usb-headset', '--mic-volume', '150'], {});
    expect([named.mic, named.micSource, named.micVolume]).toEqual([true, 'alsa_input.usb-headset', 150]);
    expect(parseSettings([], { DESKCAST_MIC: '1' }).mic).toBe(true);
    expect(() => parseSettings(['--mic-volume', '300'], {})).toThrow(/--mic-volume must be a whole number from 0 to 200/);
  });

  it('offers H.264 and VP8 by default; --codecs h264 forbids VP8', () => {
    expect(parseSettings([], {}).codecs).toBe('h264,vp8');
    expect(parseSettings(['--codecs', 'h264'], {}).codecs).toBe('h264');
    expect(() => parseSettings(['--codecs', 'vp8'], {})).toThrow(/--codecs must be one of h264,vp8, h264/);
  });
});
