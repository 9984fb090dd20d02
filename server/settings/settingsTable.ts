// The one table that defines every setting: its flag, its DESKCAST_* environment variable,
// its default and its help. `--help` and docs/SETTINGS.md are generated from it.

export type SettingKind =
  | { type: 'integer'; min: number; max: number }
  | { type: 'string'; allowEmpty?: boolean }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'boolean' }
  | { type: 'size' }; // WIDTHxHEIGHT

export interface SettingDefinition<K extends string = string> {
  key: K;
  flag: string; // long flag, without the leading "--"
  env: string;
  /** A conventional variable read when `env` is unset (e.g. DISPLAY, PULSE_SERVER). */
  alsoEnv?: string;
  kind: SettingKind;
  /** Default; `undefined` means "derived at start-up" (the help says how). */
  default: string | number | boolean | undefined;
  help: string;
  group: 'Server' | 'Video' | 'Media' | 'Viewers' | 'Control' | 'Audio' | 'Actions';
}

function define<const K extends string>(d: SettingDefinition<K>): SettingDefinition<K> {
  return d;
}

export const settingsTable = [
  define({
    key: 'port', flag: 'port', env: 'DESKCAST_PORT', group: 'Server',
    kind: { type: 'integer', min: 0, max: 65535 }, default: 8443,
    help: 'HTTPS port for the viewer page, signaling, /healthz and /metrics (0: any free port).',
  }),
  define({
    key: 'bind', flag: 'bind', env: 'DESKCAST_BIND', group: 'Server',
    kind: { type: 'string' }, default: '0.0.0.0',
    help: 'Address the HTTPS server listens on.',
  }),
  define({
    key: 'tlsCert', flag: 'tls-cert', env: 'DESKCAST_TLS_CERT', group: 'Server',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'PEM certificate file. Empty: a self-signed one is generated once under certs/ and reused.',
  }),
  define({
    key: 'tlsKey', flag: 'tls-key', env: 'DESKCAST_TLS_KEY', group: 'Server',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'PEM private key file for --tls-cert.',
  }),
  define({
    key: 'token', flag: 'token', env: 'DESKCAST_TOKEN', group: 'Server',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'Access token in the viewer link. Empty: a random 128-bit token per start.',
  }),
  define({
    key: 'config', flag: 'config', env: 'DESKCAST_CONFIG', group: 'Server',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'JSON file of settings ({"port": 9443, "fps": 60, ...}); flags and env vars override it.',
  }),
  define({
    key: 'logLevel', flag: 'log-level', env: 'DESKCAST_LOG_LEVEL', group: 'Server',
    kind: { type: 'enum', values: ['debug', 'info', 'warn', 'error'] }, default: 'info',
    help: 'Least severe log level printed.',
  }),
  define({
    key: 'display', flag: 'display', env: 'DESKCAST_DISPLAY', alsoEnv: 'DISPLAY', group: 'Video',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'X display to capture. Empty (and no $DISPLAY): deskcast starts its own Xvfb desktop.',
  }),
  define({
    key: 'embeddedSize', flag: 'embedded-size', env: 'DESKCAST_EMBEDDED_SIZE', group: 'Video',
    kind: { type: 'size' }, default: '1280x720',
    help: 'Screen size of the embedded Xvfb desktop (used only when deskcast starts its own).',
  }),
  define({
    key: 'fps', flag: 'fps', env: 'DESKCAST_FPS', group: 'Video',
    kind: { type: 'integer', min: 1, max: 120 }, default: 30,
    help: 'Capture and encode frame rate.',
  }),
  define({
    key: 'bitrate', flag: 'bitrate', env: 'DESKCAST_BITRATE', group: 'Video',
    kind: { type: 'integer', min: 100, max: 100000 }, default: 3000,
    help: 'Video bitrate in kb/s.',
  }),
  define({
    key: 'keyframeInterval', flag: 'keyframe-interval', env: 'DESKCAST_KEYFRAME_INTERVAL', group: 'Video',
    kind: { type: 'integer', min: 1, max: 60 }, default: 4,
    help: 'Seconds between periodic keyframes (viewers also get one on request).',
  }),
  define({
    key: 'encoder', flag: 'encoder', env: 'DESKCAST_ENCODER', group: 'Video',
    kind: { type: 'enum', values: ['auto', 'x264', 'nvenc', 'vaapi'] }, default: 'auto',
    help: 'H.264 encoder. auto tries nvenc, then vaapi, then x264; the others force one.',
  }),
  define({
    key: 'codecs', flag: 'codecs', env: 'DESKCAST_CODECS', group: 'Video',
    kind: { type: 'enum', values: ['h264,vp8', 'h264'] }, default: 'h264,vp8',
    help: 'Video codecs offered. h264,vp8: browsers without a usable H.264 (e.g. Firefox without OpenH264) get VP8, encoded from the same frames only while such a viewer watches. h264: H.264 only (those browsers are refused with the reason).',
  }),
  define({
    key: 'workers', flag: 'workers', env: 'DESKCAST_WORKERS', group: 'Media',
    kind: { type: 'integer', min: 1, max: 64 }, default: undefined,
    help: 'mediasoup worker processes. Default: one per CPU core.',
  }),
  define({
    key: 'announcedAddress', flag: 'announced-address', env: 'DESKCAST_ANNOUNCED_ADDRESS', group: 'Media',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'IP or host name browsers use to reach the media ports. Empty: the first non-loopback IPv4 address.',
  }),
  define({
    key: 'rtcPort', flag: 'rtc-port', env: 'DESKCAST_RTC_PORT', group: 'Media',
    kind: { type: 'integer', min: 1024, max: 65000 }, default: 40000,
    help: 'First WebRTC media port (UDP and TCP); worker N uses this port + N.',
  }),
  define({
    key: 'maxViewers', flag: 'max-viewers', env: 'DESKCAST_MAX_VIEWERS', group: 'Viewers',
    kind: { type: 'integer', min: 1, max: 100000 }, default: 50,
    help: 'Viewers admitted at once; the next ones are refused politely.',
  }),
  define({
    key: 'adminToken', flag: 'admin-token', env: 'DESKCAST_ADMIN_TOKEN', group: 'Control',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'Access token of the admin link (grants control, kicks viewers). Empty: a random 128-bit token per start.',
  }),
  define({
    key: 'control', flag: 'control', env: 'DESKCAST_CONTROL', group: 'Control',
    kind: { type: 'enum', values: ['off', 'request', 'free'] }, default: 'request',
    help: 'Remote control: off (view only), request (viewers ask, the admin grants), free (anyone may take it). The admin can change it at run time.',
  }),
  define({
    key: 'clipboardRead', flag: 'clipboard-read', env: 'DESKCAST_CLIPBOARD_READ', group: 'Control',
    kind: { type: 'boolean' }, default: false,
    help: 'Let the controller copy the desktop\'s clipboard to their own (the admin can change it at run time).',
  }),
  define({
    key: 'audio', flag: 'audio', env: 'DESKCAST_AUDIO', group: 'Audio',
    kind: { type: 'boolean' }, default: true,
    help: 'Broadcast the desktop sound as Opus. --no-audio turns it off.',
  }),
  define({
    key: 'audioSource', flag: 'audio-source', env: 'DESKCAST_AUDIO_SOURCE', group: 'Audio',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'PulseAudio source to capture (a sink name means its monitor). Empty: the default sink\'s monitor.',
  }),
  define({
    key: 'audioApp', flag: 'audio-app', env: 'DESKCAST_AUDIO_APP', group: 'Audio',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'Broadcast only this application\'s sound (matched by application name); you still hear it.',
  }),
  define({
    key: 'pulseServer', flag: 'pulse-server', env: 'DESKCAST_PULSE_SERVER', alsoEnv: 'PULSE_SERVER', group: 'Audio',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'Sound server to capture from (a libpulse server string). Empty: the user\'s own sound server.',
  }),
  define({
    key: 'pulseCookie', flag: 'pulse-cookie', env: 'DESKCAST_PULSE_COOKIE', alsoEnv: 'PULSE_COOKIE', group: 'Audio',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'Cookie file for --pulse-server. Empty: libpulse\'s default.',
  }),
  define({
    key: 'workerBin', flag: 'worker-bin', env: 'DESKCAST_WORKER_BIN', alsoEnv: 'MEDIASOUP_WORKER_BIN', group: 'Media',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'mediasoup worker binary. Empty: the one the set-up built (cached under ~/.cache/deskcast).',
  }),
  define({
    key: 'audioBitrate', flag: 'audio-bitrate', env: 'DESKCAST_AUDIO_BITRATE', group: 'Audio',
    kind: { type: 'integer', min: 16, max: 510 }, default: 128,
    help: 'Opus bitrate in kb/s.',
  }),
  define({
    key: 'mic', flag: 'mic', env: 'DESKCAST_MIC', group: 'Audio',
    kind: { type: 'boolean' }, default: false,
    help: 'Mix the presenter\'s microphone (the sound server\'s default source, or --mic-source) into the broadcast sound. With the default sink as desktop sound, use headphones: a microphone near speakers picks the broadcast up again.',
  }),
  define({
    key: 'micSource', flag: 'mic-source', env: 'DESKCAST_MIC_SOURCE', group: 'Audio',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'PulseAudio source to use as the microphone (see `pactl list short sources`; not a .monitor). Giving it turns --mic on. Empty: the default source.',
  }),
  define({
    key: 'micVolume', flag: 'mic-volume', env: 'DESKCAST_MIC_VOLUME', group: 'Audio',
    kind: { type: 'integer', min: 0, max: 200 }, default: 100,
    help: 'Microphone level in the mix, percent (100: unchanged).',
  }),
  define({
    key: 'repair', flag: 'repair', env: 'DESKCAST_REPAIR', group: 'Actions',
    kind: { type: 'boolean' }, default: false,
    help: 'Remove audio sinks and loopbacks left by deskcast processes that died, report, and exit.',
  }),
  define({
    key: 'help', flag: 'help', env: 'DESKCAST_HELP', group: 'Actions',
    kind: { type: 'boolean' }, default: false,
    help: 'Print this help and exit.',
  }),
] as const;

export type SettingKey = (typeof settingsTable)[number]['key'];
