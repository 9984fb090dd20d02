// The controlling viewer's keyboard and pointer, captured over the video and sent to the
// desktop. Keys go with both `code` (the physical key) and `key` (what the viewer's layout
// typed); the server types the character on the desktop's layout. Text from an input method
// arrives as committed text. Nothing stays pressed when the page loses focus or control.
import { CONTROL_HEARTBEAT_MS, type InputEvent } from '../../../shared/protocol';
import { WheelNormalizer } from '../../../shared/input/wheel';
import type { SignalingClient } from '../SignalingClient';

export type KeyMode = 'text' | 'raw';

/** The video's picture inside its element (object-fit: contain letterboxes it). */
function contentBox(video: HTMLVideoElement): { left: number; top: number; scale: number } | undefined {
  const { videoWidth: vw, videoHeight: vh } = video;
  if (vw === 0 || vh === 0) return undefined;
  const rect = video.getBoundingClientRect();
  const scale = Math.min(rect.width / vw, rect.height / vh);
  return { left: rect.left + (rect.width - vw * scale) / 2, top: rect.top + (rect.height - vh * scale) / 2, scale };
}

export class RemoteInput {
  readonly #video: HTMLVideoElement;
  /** Focus target over the video: receives keys and input-method composition. */
  readonly #sink: HTMLTextAreaElement;
  readonly #signaling: SignalingClient;
  readonly #wheel = new WheelNormalizer();
  readonly #pressedCodes = new Set<string>();
  readonly #abort = new AbortController();
  #active = false;
  #mode: KeyMode = 'text';
  #heartbeat: number | undefined;
  #pendingMove: InputEvent | undefined;
  #moveScheduled = false;
  /** A Ctrl+V whose text is being put on the desktop's clipboard first. */
  #pasteCode: string | undefined;
  /** When ControlLeft went down: Windows sends AltGr as a fake ControlLeft plus AltRight. */
  #controlLeftDownAt = -1;
  #fakeControl = false;

  constructor(video: HTMLVideoElement, sink: HTMLTextAreaElement, signaling: SignalingClient) {
    this.#video = video;
    this.#sink = sink;
    this.#signaling = signaling;
    const opts = { signal: this.#abort.signal };
    sink.addEventListener('keydown', (e) => this.#onKey(e, true), opts);
    sink.addEventListener('keyup', (e) => this.#onKey(e, false), opts);
    sink.addEventListener('compositionend', (e) => this.#onComposition(e), opts);
    sink.addEventListener('input', (e) => this.#onInsertText(e as globalThis.InputEvent), opts);
    sink.addEventListener('paste', (e) => void this.#onPaste(e), opts);
    sink.addEventListener('blur', () => this.#releaseAll(), opts);
    sink.addEventListener('pointermove', (e) => this.#onPointerMove(e), opts);
    sink.addEventListener('pointerdown', (e) => this.#onButton(e, true), opts);
    sink.addEventListener('pointerup', (e) => this.#onButton(e, false), opts);
    sink.addEventListener('contextmenu', (e) => e.preventDefault(), opts);
    sink.addEventListener('wheel', (e) => this.#onWheel(e), { ...opts, passive: false });
    document.addEventListener('visibilitychange', () => document.hidden && this.#releaseAll(), opts);
    window.addEventListener('pagehide', () => this.#releaseAll(), opts);
    window.addEventListener('blur', () => this.#releaseAll(), opts);
  }

  get active(): boolean {
    return this.#active;
  }

  get mode(): KeyMode {
    return this.#mode;
  }

  /** Gives the keyboard back to the desktop (after a click on the page's own buttons). */
  focus(): void {
    if (this.#active) this.#sink.focus();
  }

  /** Control granted (true) or lost (false). */
  setActive(active: boolean): void {
    if (active === this.#active) return;
    this.#active = active;
    document.body.dataset['control'] = active ? 'yes' : 'no';
    this.#sink.hidden = !active;
    window.clearInterval(this.#heartbeat);
    if (active) {
      this.#sink.focus();
      this.#heartbeat = window.setInterval(() => this.#signaling.sendInput({ type: 'heartbeat' }), CONTROL_HEARTBEAT_MS);
      this.#signaling.sendInput({ type: 'heartbeat' });
      // Keyboard Lock lets Escape, Alt+Tab & co. reach the desktop where the browser allows it.
      void (navigator as Navigator & { keyboard?: { lock?: () => Promise<void> } }).keyboard?.lock?.().catch(() => undefined);
    } else {
      this.#pressedCodes.clear();
      (navigator as Navigator & { keyboard?: { unlock?: () => void } }).keyboard?.unlock?.();
      if (document.pointerLockElement) document.exitPointerLock();
    }
  }

  /** `raw`: physical keys and a locked pointer (games); `text`: characters (typing). */
  setMode(mode: KeyMode): void {
    this.#releaseAll();
    this.#mode = mode;
    if (mode === 'text' && document.pointerLockElement) document.exitPointerLock();
  }

  close(): void {
    this.setActive(false);
    this.#abort.abort();
  }

  #send(event: InputEvent, droppable = false): void {
    if (this.#active) this.#signaling.sendInput(event, droppable);
  }

  #onKey(e: KeyboardEvent, down: boolean): void {
    if (!this.#active) return;
    // An input method is composing: its result arrives as text at compositionend.
    if (e.isComposing || e.key === 'Process' || e.keyCode === 229) return;
    const mods = {
      shift: e.shiftKey,
      ctrl: e.ctrlKey,
      alt: e.altKey,
      meta: e.metaKey,
      altGraph: e.getModifierState('AltGraph'),
      capsLock: e.getModifierState('CapsLock'),
    };
    const isPaste = this.#mode === 'text' && e.code !== '' && ((mods.ctrl && !mods.alt && e.key.toLowerCase() === 'v') || (mods.shift && e.key === 'Insert'));
    if (isPaste && down) {
      // Let the browser fire `paste` with the viewer's clipboard; the key follows once the desktop has the text.
      this.#pasteCode = e.code;
      return;
    }
    if (!down && e.code === this.#pasteCode) return;
    e.preventDefault();
    if (this.#isFakeAltGrControl(e, down)) return;
    if (down) this.#pressedCodes.add(e.code || e.key);
    else if (!this.#pressedCodes.delete(e.code || e.key)) return; // its key-down went elsewhere
    this.#send({ type: 'key', code: e.code, key: e.key, down, repeat: e.repeat, mode: this.#mode, modifiers: mods });
  }

  /**
   * Windows reports AltGr as ControlLeft + AltRight a moment apart; the desktop must see AltGr
   * alone, or it would take the character for a Ctrl shortcut. Takes back the fake Ctrl.
   */
  #isFakeAltGrControl(e: KeyboardEvent, down: boolean): boolean {
    if (e.code === 'ControlLeft') {
      if (down) this.#controlLeftDownAt = e.timeStamp;
      else if (this.#fakeControl) {
        this.#fakeControl = false;
        return true; // its press was already taken back
      }
      return false;
    }
    if (down && e.code === 'AltRight' && e.key === 'AltGraph' && this.#pressedCodes.has('ControlLeft') && e.timeStamp - this.#controlLeftDownAt < 20) {
      this.#fakeControl = true;
      this.#pressedCodes.delete('ControlLeft');
      const modifiers = { shift: e.shiftKey, ctrl: false, alt: false, meta: e.metaKey, altGraph: true, capsLock: e.getModifierState('CapsLock') };
      this.#send({ type: 'key', code: 'ControlLeft', key: 'Control', down: false, repeat: false, mode: this.#mode, modifiers });
    }
    return false;
  }

  async #onPaste(e: ClipboardEvent): Promise<void> {
    const code = this.#pasteCode;
    this.#pasteCode = undefined;
    if (!this.#active || !code) return;
    e.preventDefault();
    const text = e.clipboardData?.getData('text/plain') ?? '';
    if (text) await this.#signaling.request('clipboard.write', { text: text.slice(0, 16_384) }).catch(() => undefined);
    // The viewer's modifiers are already down on the desktop: send the letter itself.
    const key = code === 'Insert' ? 'Insert' : 'v';
    const modifiers = { shift: code === 'Insert', ctrl: code !== 'Insert', alt: false, meta: false, altGraph: false, capsLock: false };
    this.#send({ type: 'key', code, key, down: true, repeat: false, mode: 'text', modifiers });
    this.#send({ type: 'key', code, key, down: false, repeat: false, mode: 'text', modifiers });
  }

  /** Text inserted without a key press of its own (on-screen keyboards, dictation, pasted emoji pickers). */
  #onInsertText(e: globalThis.InputEvent): void {
    if (e.inputType === 'insertText' && e.data && this.#active) this.#send({ type: 'text', text: e.data.slice(0, 256) });
    if (!e.isComposing) this.#sink.value = '';
  }

  #onComposition(e: CompositionEvent): void {
    if (this.#active && e.data) this.#send({ type: 'text', text: e.data.slice(0, 256) });
    this.#sink.value = '';
  }

  #onPointerMove(e: PointerEvent): void {
    if (!this.#active) return;
    if (document.pointerLockElement === this.#sink) {
      const box = contentBox(this.#video);
      if (!box || (e.movementX === 0 && e.movementY === 0)) return;
      this.#send({ type: 'pointerRelative', dx: clamp(e.movementX / box.scale, -4096, 4096), dy: clamp(e.movementY / box.scale, -4096, 4096) });
      return;
    }
    const position = this.#videoPoint(e);
    if (!position) return;
    // One move per animation frame: pointer events can come at 1 kHz.
    this.#pendingMove = position;
    if (this.#moveScheduled) return;
    this.#moveScheduled = true;
    requestAnimationFrame(() => this.#flushMove());
  }

  #flushMove(): void {
    this.#moveScheduled = false;
    const move = this.#pendingMove;
    this.#pendingMove = undefined;
    if (move) this.#send(move, true); // the next move supersedes it
  }

  #onButton(e: PointerEvent, down: boolean): void {
    if (!this.#active || e.button < 0 || e.button > 4) return;
    e.preventDefault();
    if (down) {
      this.#sink.focus();
      this.#sink.setPointerCapture(e.pointerId);
      if (this.#mode === 'raw' && document.pointerLockElement !== this.#sink) void this.#sink.requestPointerLock();
    }
    // The button lands where the pointer is now, not where the last frame's move left it.
    const position = document.pointerLockElement === this.#sink ? undefined : this.#videoPoint(e);
    this.#pendingMove = undefined;
    if (position) this.#send(position);
    this.#send({ type: 'button', button: e.button, down });
  }

  #onWheel(e: WheelEvent): void {
    if (!this.#active) return;
    e.preventDefault();
    const { dx, dy } = this.#wheel.add(e.deltaX, e.deltaY, e.deltaMode);
    if (dx !== 0 || dy !== 0) this.#send({ type: 'wheel', dx: clamp(dx, -50, 50), dy: clamp(dy, -50, 50) });
  }

  #videoPoint(e: MouseEvent): InputEvent | undefined {
    const box = contentBox(this.#video);
    if (!box) return undefined;
    const width = this.#video.videoWidth;
    const height = this.#video.videoHeight;
    const x = clamp((e.clientX - box.left) / box.scale, 0, width - 1);
    const y = clamp((e.clientY - box.top) / box.scale, 0, height - 1);
    return { type: 'pointer', x, y, width, height };
  }

  #releaseAll(): void {
    this.#pressedCodes.clear();
    this.#wheel.reset();
    this.#pasteCode = undefined;
    if (this.#active) this.#signaling.sendInput({ type: 'releaseAll' });
  }
}

function clamp(v: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, v));
}
