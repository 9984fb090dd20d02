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
  group: 'Server' | 'Video' | 'Media' | 'Viewers' | 'Capacity' | 'Control' | 'Audio' | 'Taps' | 'Actions';
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
    key: 'capture', flag: 'capture', env: 'DESKCAST_CAPTURE', group: 'Video',
    kind: { type: 'enum', values: ['auto', 'x11', 'wayland'] }, default: 'auto',
    help: 'Capture backend. auto: Wayland (ext-image-copy-capture-v1, else wlr-screencopy) when a Wayland display is given, else X11; the log says which and why the others were skipped.',
  }),
  define({
    key: 'waylandDisplay', flag: 'wayland-display', env: 'DESKCAST_WAYLAND_DISPLAY', alsoEnv: 'WAYLAND_DISPLAY', group: 'Video',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'Wayland compositor to capture and control (wlroots: sway, labwc, ...): a socket name in --xdg-runtime-dir, or an absolute path (how a compositor run by another user is reached).',
  }),
  define({
    key: 'xdgRuntimeDir', flag: 'xdg-runtime-dir', env: 'DESKCAST_XDG_RUNTIME_DIR', alsoEnv: 'XDG_RUNTIME_DIR', group: 'Video',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'Directory a relative --wayland-display socket name is looked up in.',
  }),
  define({
    key: 'output', flag: 'output', env: 'DESKCAST_OUTPUT', group: 'Video',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'Wayland output to capture (e.g. HEADLESS-1, DP-1). Empty: the first output.',
  }),
  define({
    key: 'embedded', flag: 'embedded', env: 'DESKCAST_EMBEDDED', group: 'Video',
    kind: { type: 'enum', values: ['x11', 'wayland'] }, default: 'x11',
    help: 'The desktop deskcast starts when no display is given: x11 (Xvfb) or wayland (headless sway as an unprivileged user, with a terminal).',
  }),
  define({
    key: 'keyboardLayout', flag: 'keyboard-layout', env: 'DESKCAST_KEYBOARD_LAYOUT', group: 'Control',
    kind: { type: 'string' }, default: 'us',
    help: 'XKB layout of the keymap remote control uploads on Wayland (us, de, fr, de(nodeadkeys), ...). X11 uses the display\'s own layout.',
  }),
  define({
    key: 'embeddedSize', flag: 'embedded-size', env: 'DESKCAST_EMBEDDED_SIZE', group: 'Video',
    kind: { type: 'size' }, default: '1280x720',
    help: 'Screen size of the embedded Xvfb desktop (used only when deskcast starts its own).',
  }),
  define({
    key: 'fps', flag: 'fps', env: 'DESKCAST_FPS', group: 'Video',
    kind: { type: 'integer', min: 1, max: 120 }, default: 30,
    help: 'Maximum capture and encode frame rate: frames are grabbed when the screen changes (X DAMAGE), at most this often.',
  }),
  define({
    key: 'bitrate', flag: 'bitrate', env: 'DESKCAST_BITRATE', group: 'Video',
    kind: { type: 'integer', min: 100, max: 100000 }, default: 3000,
    help: 'Video bitrate in kb/s.',
  }),
  define({
    key: 'keyframeInterval', flag: 'keyframe-interval', env: 'DESKCAST_KEYFRAME_INTERVAL', group: 'Video',
    kind: { type: 'integer', min: 0, max: 60 }, default: 0,
    help: 'Seconds between periodic keyframes; 0 (default): only on request (a viewer joining, PLI/FIR after loss), NACK repairs the rest.',
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
    help: 'Viewers admitted at once (the cap in force is the lowest of this, the upstream and the CPU limit); the next ones wait on a "host is full" page. The admin can change it at run time.',
  }),
  define({
    key: 'upstreamMbps', flag: 'upstream-mbps', env: 'DESKCAST_UPSTREAM_MBPS', group: 'Capacity',
    kind: { type: 'integer', min: 1, max: 100000 }, default: undefined,
    help: 'Upload bandwidth of this host in Mb/s. Default: measured once by the preflight upload test (see --preflight-url), else a conservative 10 Mb/s.',
  }),
  define({
    key: 'preflight', flag: 'preflight', env: 'DESKCAST_PREFLIGHT', group: 'Capacity',
    kind: { type: 'boolean' }, default: true,
    help: 'Measure the upload bandwidth on first start (needs --preflight-url). --no-preflight skips it, and the skip is remembered.',
  }),
  define({
    key: 'preflightUrl', flag: 'preflight-url', env: 'DESKCAST_PREFLIGHT_URL', group: 'Capacity',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'HTTP(S) URL the preflight POSTs bytes to (another deskcast\'s https://HOST:8443/api/upload-sink?t=TOKEN works). Empty: no test.',
  }),
  define({
    key: 'preflightSeconds', flag: 'preflight-seconds', env: 'DESKCAST_PREFLIGHT_SECONDS', group: 'Capacity',
    kind: { type: 'integer', min: 1, max: 60 }, default: 5,
    help: 'How long the preflight upload test runs.',
  }),
  define({
    key: 'reconfigure', flag: 'reconfigure', env: 'DESKCAST_RECONFIGURE', group: 'Capacity',
    kind: { type: 'boolean' }, default: false,
    help: 'Measure the upload bandwidth again, replacing the remembered result (or the remembered skip).',
  }),
  define({
    key: 'configDir', flag: 'config-dir', env: 'DESKCAST_CONFIG_DIR', alsoEnv: 'XDG_CONFIG_HOME', group: 'Capacity',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'Folder holding deskcast/capacity.json (the remembered preflight). Empty: ~/.config.',
  }),
  define({
    key: 'alwaysOn', flag: 'always-on', env: 'DESKCAST_ALWAYS_ON', group: 'Capacity',
    kind: { type: 'boolean' }, default: false,
    help: 'Keep capture and encoding running with nobody watching. Default: they start with the first viewer and stop --idle-grace seconds after the last leaves.',
  }),
  define({
    key: 'idleGrace', flag: 'idle-grace', env: 'DESKCAST_IDLE_GRACE', group: 'Capacity',
    kind: { type: 'integer', min: 0, max: 3600 }, default: 5,
    help: 'Seconds capture keeps running after the last viewer leaves (a reload does not restart it).',
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
    key: 'captureSocket', flag: 'capture-socket', env: 'DESKCAST_CAPTURE_SOCKET', group: 'Taps',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'Unix socket (mode 0600) for other programs: SCREENSHOT, STREAM (raw H.264) and STATUS (see README). Empty: none.',
  }),
  define({
    key: 'recordDir', flag: 'record-dir', env: 'DESKCAST_RECORD_DIR', group: 'Taps',
    kind: { type: 'string', allowEmpty: true }, default: '',
    help: 'Folder for recordings (Matroska, H.264 + Opus as broadcast; created if missing). Empty: ~/deskcast-recordings.',
  }),
  define({
    key: 'recordSegment', flag: 'record-segment', env: 'DESKCAST_RECORD_SEGMENT', group: 'Taps',
    kind: { type: 'integer', min: 0, max: 86400 }, default: 0,
    help: 'Start a new recording file every this many seconds (at a keyframe). 0: one file per recording.',
  }),
  define({
    key: 'recordMinFree', flag: 'record-min-free', env: 'DESKCAST_RECORD_MIN_FREE', group: 'Taps',
    kind: { type: 'integer', min: 0, max: 100000000 }, default: 500,
    help: 'Disk guard: a recording stops cleanly (and none starts) when the recording folder\'s disk has less than this many MB free.',
  }),
  define({
    key: 'record', flag: 'record', env: 'DESKCAST_RECORD', group: 'Taps',
    kind: { type: 'boolean' }, default: false,
    help: 'Start recording at launch (stop it from the admin page or DELETE /api/recordings/current).',
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
