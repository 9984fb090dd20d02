// What remote control needs from the desktop: input injection behind one interface, so the
// X11 injector (XTest) and a Wayland one (virtual keyboard / pointer) are interchangeable.

export interface KeyInput {
  /** Identifies the physical key (the DOM `code`): key-up releases exactly what key-down pressed. */
  id: string;
  /**
   * The keysym to type. Never 0 (the injector refuses it): in raw mode it is used only when the
   * physical keycode is unknown, and is VoidSymbol (0xffffff) when the browser's key names none.
   */
  keysym: number;
  /** The physical key's X keycode (evdev), 0 when unknown: raw mode, and shortcuts whose character the layout lacks. */
  keycode: number;
  down: boolean;
  mode: 'text' | 'raw';
}

export interface DesktopInput {
  /** Screen pixels; clamped to the screen. */
  pointerMove(x: number, y: number): void;
  pointerMoveRelative(dx: number, dy: number): void;
  /** X button numbers: 1 left, 2 middle, 3 right, 8 back, 9 forward. */
  button(button: number, down: boolean): void;
  /** Whole wheel clicks; positive = down / right. */
  scroll(dx: number, dy: number): void;
  key(key: KeyInput): void;
  /** Text committed by an input method, typed character by character. */
  text(text: string): void;
  /** Releases every key and button held on the controller's behalf and undoes temporary keymap changes. */
  releaseAll(): void;
  close(): void;
}
