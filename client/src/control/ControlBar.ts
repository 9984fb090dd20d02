// The viewer's control button and what it shows: ask for control, wait for the admin, hold
// it (and give it back), plus the game-mode switch and "copy from the desktop".
import type { ControlState, Notifications } from '../../../shared/protocol';
import type { SignalingClient } from '../SignalingClient';
import type { RemoteInput } from './RemoteInput';

export interface ControlBarElements {
  button: HTMLButtonElement;
  state: HTMLElement;
  gameMode: HTMLButtonElement;
  copy: HTMLButtonElement;
}

export class ControlBar {
  readonly #el: ControlBarElements;
  readonly #signaling: SignalingClient;
  readonly #input: RemoteInput;
  #state: ControlState | undefined;

  constructor(el: ControlBarElements, signaling: SignalingClient, input: RemoteInput) {
    this.#el = el;
    this.#signaling = signaling;
    this.#input = input;
    signaling.socket.on('control.state', (state) => this.#render(state));
    signaling.socket.on('input.rejected', (rejection) => this.#onRejected(rejection));
    signaling.socket.on('disconnect', () => this.#render(undefined));
    el.button.addEventListener('click', () => void this.#toggle());
    el.gameMode.addEventListener('click', () => {
      const raw = this.#input.mode !== 'raw';
      this.#input.setMode(raw ? 'raw' : 'text');
      el.gameMode.setAttribute('aria-pressed', String(raw));
      this.#input.focus();
    });
    el.copy.addEventListener('click', () => void this.#copyFromDesktop());
  }

  async #toggle(): Promise<void> {
    const s = this.#state;
    const method = s?.youHaveControl || s?.youRequested ? 'control.release' : 'control.request';
    try {
      this.#render(await this.#signaling.request(method, {}));
    } catch (err) {
      this.#el.state.textContent = (err as Error).message;
    }
  }

  async #copyFromDesktop(): Promise<void> {
    try {
      const { text } = await this.#signaling.request('clipboard.read', {});
      await navigator.clipboard.writeText(text);
      this.#input.focus();
      this.#el.state.textContent = text ? `Copied ${text.length} characters from the desktop.` : 'The desktop\'s clipboard is empty.';
    } catch (err) {
      this.#el.state.textContent = (err as Error).message;
    }
  }

  #onRejected(rejection: Notifications['input.rejected']): void {
    this.#el.state.textContent = rejection.message;
    this.#el.state.dataset['code'] = rejection.code;
  }

  #render(state: ControlState | undefined): void {
    this.#state = state;
    const el = this.#el;
    el.button.hidden = !state || state.policy === 'off';
    el.gameMode.hidden = !state?.youHaveControl;
    el.copy.hidden = !state?.youHaveControl || !state.clipboardRead;
    this.#input.setActive(state?.youHaveControl ?? false);
    delete el.state.dataset['code'];
    if (!state) {
      el.state.textContent = '';
      return;
    }
    el.button.textContent = state.youHaveControl ? 'Release control' : state.youRequested ? 'Cancel request' : 'Request control';
    el.button.setAttribute('aria-pressed', String(state.youHaveControl));
    el.state.textContent = state.youHaveControl
      ? 'You control the desktop'
      : state.youRequested
        ? 'Waiting for the admin to grant control…'
        : state.policy === 'off'
          ? 'View only'
          : state.held
            ? 'Someone else controls the desktop'
            : '';
    document.body.dataset['controlState'] = state.youHaveControl ? 'controlling' : state.youRequested ? 'requested' : 'watching';
  }
}
