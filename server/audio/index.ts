// Public API of deskcast's audio module (PulseAudio / pipewire-pulse side; the capture and Opus
// encoding themselves are native: native/src/audio/pulse_capture.h, native/src/audio/opus_encoder.h).
export { EmbeddedPulseAudio, type EmbeddedPulseAudioEvents, type EmbeddedPulseAudioOptions } from './EmbeddedPulseAudio.js';
export {
  APP_SINK_PREFIX,
  appSinkName,
  parseAppSinkName,
  PerAppAudioRouter,
  type PerAppAudioRouterEvents,
  type PerAppAudioRouterOptions,
  type RoutedStream,
  type RouterCloseResult,
} from './PerAppAudioRouter.js';
export { repairAudio, type KeptAppSink, type RemovedAppSink, type RepairAudioOptions, type RepairAudioResult } from './repairAudio.js';
export { Pactl, pulseEnv, type PulseConnection } from './pactl.js';
export {
  AudioError,
  AudioRouterError,
  EmbeddedPulseAudioError,
  PactlCommandError,
  PulseToolMissingError,
  SoundServerUnreachableError,
} from './errors.js';
