// Errors of deskcast's audio module. Each message says what happened and what to do about it.

/** Base class: catch this to handle any audio setup problem. */
export class AudioError extends Error {
  override name = 'AudioError';
}

/** A PulseAudio command-line tool (pactl, pacat, paplay, parec) or the daemon is not installed. */
export class PulseToolMissingError extends AudioError {
  override name = 'PulseToolMissingError';
  readonly tool: string;

  constructor(tool: string) {
    const pkg = tool === 'pulseaudio' ? 'pulseaudio' : 'pulseaudio-utils';
    super(
      `'${tool}' was not found on PATH. Install it with \`apt-get install ${pkg}\` ` +
        '(or run scripts/install-system-deps.sh), or turn deskcast\'s audio off (see `deskcast --help`).',
    );
    this.tool = tool;
  }
}

/** The sound server cannot be reached (not running, wrong PULSE_SERVER, refused access). */
export class SoundServerUnreachableError extends AudioError {
  override name = 'SoundServerUnreachableError';
  readonly server: string;

  constructor(server: string, detail: string) {
    super(
      `Cannot connect to the sound server ${server}: ${detail}. Start PulseAudio or pipewire-pulse ` +
        '(`pulseaudio --start`, or `systemctl --user start pipewire-pulse`), run deskcast as the user who owns it, ' +
        'or point PULSE_SERVER at a running one.',
    );
    this.server = server;
  }
}

/** A pactl command ran but the sound server refused it. */
export class PactlCommandError extends AudioError {
  override name = 'PactlCommandError';
  readonly args: readonly string[];
  readonly stderr: string;

  constructor(args: readonly string[], stderr: string, hint: string) {
    super(`\`pactl ${args.join(' ')}\` failed: ${stderr.trim() || 'no error text'}. ${hint}`);
    this.args = args;
    this.stderr = stderr;
  }
}

/** deskcast's own PulseAudio for the embedded desktop did not start or stopped working. */
export class EmbeddedPulseAudioError extends AudioError {
  override name = 'EmbeddedPulseAudioError';
}

/** --audio-app routing could not be set up (bad app name, no sink to loop back to, ...). */
export class AudioRouterError extends AudioError {
  override name = 'AudioRouterError';
}
