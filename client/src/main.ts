// The viewer page: connects with the token from the link, plays the broadcast, shows state
// and a small stats overlay. Exposes nothing global; tests read the DOM like a user would.
import { ViewerSession, type ViewerState } from './ViewerSession';
import { formatSample, sampleStats, type OverlaySample } from './statsOverlay';
import { AdminPanel } from './admin/AdminPanel';
import { ControlBar } from './control/ControlBar';
import { RemoteInput } from './control/RemoteInput';

function element<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`The page is missing #${id}`);
  return el as T;
}

const video = element<HTMLVideoElement>('screen');
const message = element<HTMLSpanElement>('message');
const statsBox = element<HTMLPreElement>('stats');
const statsToggle = element<HTMLButtonElement>('stats-toggle');
const fullscreenButton = element<HTMLButtonElement>('fullscreen');
const unmuteButton = element<HTMLButtonElement>('unmute');
const volume = element<HTMLInputElement>('volume');

function setState(state: ViewerState, text: string): void {
  document.body.dataset['state'] = state;
  message.textContent = text;
}

const token = new URLSearchParams(location.search).get('t') ?? '';
let encoder = '';

const session = new ViewerSession(token, {
  state: setState,
  stream: (stream) => {
    if (video.srcObject !== stream) video.srcObject = stream;
    void startPlayback(stream.getAudioTracks().length > 0);
  },
  status: (status) => {
    encoder = status.encoder;
  },
  role: (role) => {
    document.body.dataset['role'] = role;
    if (role === 'admin') adminPanel.show();
  },
});

const remoteInput = new RemoteInput(video, element<HTMLTextAreaElement>('input-sink'), session.signaling);
new ControlBar(
  {
    button: element<HTMLButtonElement>('control'),
    state: element<HTMLSpanElement>('control-state'),
    gameMode: element<HTMLButtonElement>('game-mode'),
    copy: element<HTMLButtonElement>('copy-from-desktop'),
  },
  session.signaling,
  remoteInput,
);
const adminPanel = new AdminPanel(element<HTMLElement>('admin'), session.signaling);

/**
 * Plays with sound when the browser allows it; otherwise starts muted (autoplay policy) and
 * offers a clear "click to unmute".
 */
async function startPlayback(hasAudio: boolean): Promise<void> {
  volume.hidden = !hasAudio;
  if (!hasAudio) {
    unmuteButton.hidden = true;
    video.muted = true;
    await video.play().catch(() => undefined);
    return;
  }
  if (!video.muted) return; // the viewer already unmuted
  video.muted = false;
  try {
    await video.play();
    unmuteButton.hidden = true;
  } catch {
    video.muted = true;
    unmuteButton.hidden = false;
    await video.play().catch(() => undefined);
  }
  document.body.dataset['audio'] = video.muted ? 'muted' : 'playing';
}

unmuteButton.addEventListener('click', () => {
  video.muted = false;
  void video.play().catch(() => undefined);
  unmuteButton.hidden = true;
  document.body.dataset['audio'] = 'playing';
});

volume.addEventListener('input', () => {
  video.volume = Number(volume.value);
  video.muted = video.volume === 0;
  document.body.dataset['audio'] = video.muted ? 'muted' : 'playing';
});

fullscreenButton.addEventListener('click', () => {
  if (document.fullscreenElement) void document.exitFullscreen();
  else void document.documentElement.requestFullscreen().catch(() => undefined);
});

statsToggle.addEventListener('click', () => {
  const hidden = statsBox.classList.toggle('hidden');
  statsToggle.setAttribute('aria-pressed', String(!hidden));
});

let previous: OverlaySample | undefined;
window.setInterval(async () => {
  const report = await session.stats().catch(() => undefined);
  if (!report) {
    statsBox.textContent = '';
    previous = undefined;
    return;
  }
  previous = sampleStats(report, previous, session.captureToPlayoutMs());
  statsBox.textContent = formatSample(previous, encoder);
}, 1000);
