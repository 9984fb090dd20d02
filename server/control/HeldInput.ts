import type { InputEvent } from '../../shared/protocol.js';

export type KeyEvent = Extract<InputEvent, { type: 'key' }>;
type ModifierName = 'shift' | 'ctrl' | 'alt' | 'meta';

/** DOM `key` of the modifier keys resynchronised from the event's modifier state. */
const modifierKeys: Record<string, ModifierName> = { Shift: 'shift', Control: 'ctrl', Alt: 'alt', Meta: 'meta', OS: 'meta' };
/** The key pressed on the viewer's behalf when its event says a modifier is down that was never pressed. */
const syntheticPress: Record<ModifierName, { code: string; key: string }> = {
  ctrl: { code: 'ControlLeft', key: 'Control' },
  alt: { code: 'AltLeft', key: 'Alt' },
  shift: { code: 'ShiftLeft', key: 'Shift' },
  meta: { code: 'MetaLeft', key: 'Meta' },
};

interface HeldKey {
  modifier: ModifierName | undefined;
}

/**
 * What the controlling viewer holds down on the desktop: keys by id (the DOM `code`) and
 * buttons. Each key event carries the viewer's modifier state; the page can miss a modifier's
 * own key event (Ctrl pressed before the page had focus, Shift released while another window
 * had it), so before each key the held modifiers are brought in line with that state: a
 * modifier held here but up in the event is released, one down in the event but never pressed
 * is pressed (Ctrl+C must not arrive as a plain c). Pure bookkeeping: the caller injects.
 */
export class HeldInput {
  readonly #keys = new Map<string, HeldKey>();
  readonly #buttons = new Set<number>();

  /** The key events to inject for `event`, in order: modifier resynchronisation, then the event itself. */
  keyEvents(event: KeyEvent): KeyEvent[] {
    const id = keyId(event);
    const out: KeyEvent[] = [];
    const m = event.modifiers;
    // Windows reports AltGr as Ctrl+Alt: with AltGraph down, Ctrl and Alt are not the viewer's own.
    const wanted: Record<ModifierName, boolean> = { shift: m.shift, ctrl: m.ctrl && !m.altGraph, alt: m.alt && !m.altGraph, meta: m.meta };
    for (const [heldId, held] of this.#keys) {
      if (heldId === id || !held.modifier || m[held.modifier]) continue;
      this.#keys.delete(heldId);
      out.push({ ...event, code: heldId, key: syntheticPress[held.modifier].key, down: false, repeat: false });
    }
    const ownModifier = modifierKeys[event.key];
    for (const name of Object.keys(syntheticPress) as ModifierName[]) {
      if (!wanted[name] || (event.down && ownModifier === name) || this.#holdsModifier(name)) continue;
      const press = syntheticPress[name];
      this.#keys.set(press.code, { modifier: name });
      out.push({ ...event, code: press.code, key: press.key, down: true, repeat: false });
    }
    if (event.down) this.#keys.set(id, { modifier: ownModifier });
    else this.#keys.delete(id);
    out.push(event);
    return out;
  }

  button(button: number, down: boolean): void {
    if (down) this.#buttons.add(button);
    else this.#buttons.delete(button);
  }

  /** The event lets go of something held (a key-up or button-up of a held one, releaseAll with anything held). */
  letsGo(event: InputEvent): boolean {
    switch (event.type) {
      case 'key':
        return !event.down && this.#keys.has(keyId(event));
      case 'button':
        return !event.down && this.#buttons.has(event.button);
      case 'releaseAll':
        return this.#keys.size > 0 || this.#buttons.size > 0;
      default:
        return false;
    }
  }

  clear(): void {
    this.#keys.clear();
    this.#buttons.clear();
  }

  #holdsModifier(name: ModifierName): boolean {
    for (const held of this.#keys.values()) if (held.modifier === name) return true;
    return false;
  }
}

/** The id a key is held under (the injector's too): its DOM `code`, or its `key` when the code is empty. */
export function keyId(event: Pick<KeyEvent, 'code' | 'key'>): string {
  return event.code || event.key;
}
