// Parsing of pactl's text output (LC_ALL=C), on samples captured from pactl 16.1.
import { describe, expect, it } from 'vitest';
import { parseList, parseModuleArguments } from '../../server/audio/pactl.js';
import { appSinkName, parseAppSinkName } from '../../server/audio/PerAppAudioRouter.js';

const SINK_INPUTS = [
  'Sink Input #1',
  '\tDriver: protocol-native.c',
  '\tOwner Module: 1',
  '\tClient: 14',
  '\tSink: 0',
  '\tSample Specification: s16le 2ch 44100Hz',
  '\tFormat: pcm, format.sample_format = "\\"s16le\\""  format.rate = "44100"',
  '\tCorked: no',
  '\tVolume: front-left: 65536 / 100% / 0.00 dB,   front-right: 65536 / 100% / 0.00 dB',
  '\t        balance 0.00',
  '\tProperties:',
  '\t\tapplication.name = "Caf\u00e9 \\"Radio\\""',
  '\t\tmedia.name = "line1',
  'line2"',
  '\t\tapplication.process.binary = "pacat"',
  '',
  'Sink Input #7',
  '\tDriver: module-loopback.c',
  '\tOwner Module: 23',
  '\tClient: n/a',
  '\tSink: 2',
  '\tProperties:',
  '\t\tmedia.name = "deskcast: Firefox to your speakers"',
  '\t\tdeskcast.pid = "4242"',
  '',
].join('\n');

describe('parseList (pactl list, LC_ALL=C)', () => {
  it('reads fields, properties, escaped quotes, non-ASCII and multi-line values', () => {
    const entries = parseList(SINK_INPUTS, 'Sink Input');
    expect(entries.map((e) => e.index)).toEqual([1, 7]);
    const [a, b] = entries;
    expect(a?.fields['Sink']).toBe('0');
    expect(a?.fields['Owner Module']).toBe('1');
    expect(a?.properties['application.name']).toBe('Caf\u00e9 "Radio"');
    expect(a?.properties['media.name']).toBe('line1\nline2');
    expect(a?.properties['application.process.binary']).toBe('pacat');
    // a field line inside the Format value is not mistaken for a property
    expect(Object.keys(a?.properties ?? {})).toEqual(['application.name', 'media.name', 'application.process.binary']);
    expect(b?.fields['Client']).toBe('n/a');
    expect(b?.properties['deskcast.pid']).toBe('4242');
  });

  it('ignores blocks of other types', () => {
    expect(parseList('Sink #3\n\tName: x\n', 'Sink Input')).toEqual([]);
    expect(parseList('Sink #3\n\tName: x\n\tMonitor Source: x.monitor\n', 'Sink')[0]?.fields).toEqual({ Name: 'x', 'Monitor Source': 'x.monitor' });
  });
});

describe('parseModuleArguments', () => {
  it('reads plain, single- and double-quoted values', () => {
    expect(
      parseModuleArguments(
        `sink_name=deskcast_app_42 rate=48000 sink_properties='device.description="deskcast broadcast of mpv" deskcast.pid=42'`,
      ),
    ).toEqual({
      sink_name: 'deskcast_app_42',
      rate: '48000',
      sink_properties: 'device.description="deskcast broadcast of mpv" deskcast.pid=42',
    });
    expect(parseModuleArguments('source=deskcast_app_42.monitor sink="alsa_output.pci-0000_00_1f.3.analog-stereo"')).toEqual({
      source: 'deskcast_app_42.monitor',
      sink: 'alsa_output.pci-0000_00_1f.3.analog-stereo',
    });
  });
});

describe('per-app sink names', () => {
  it('round-trip the PID and reject look-alikes', () => {
    expect(appSinkName(1234)).toBe('deskcast_app_1234');
    expect(parseAppSinkName('deskcast_app_1234')).toBe(1234);
    expect(parseAppSinkName('deskcast_app_1234.monitor')).toBeNull();
    expect(parseAppSinkName('deskcast_app_')).toBeNull();
    expect(parseAppSinkName('my_deskcast_app_12')).toBeNull();
  });
});
