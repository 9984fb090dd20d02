import {
  CONTROL_HEARTBEAT_MS,
  parseInputEvent,
  type AdminViewers,
  type CapacityStatus,
  type ControlPolicy,
  type ControlState,
  type InputEvent,
  type RequestIn,
  type RequestMethod,
  type ResponseData,
} from '../../shared/protocol.js';
import type { ModuleHealth } from '../health/health.js';
import { createLogger } from '../util/logger.js';
import type { Audience } from '../viewers/Audience.js';
import { RequestError } from '../viewers/RequestError.js';
import type { Viewer } from '../viewers/Viewer.js';
import { ControlLease } from './ControlLease.js';
import type { DesktopClipboard } from './DesktopClipboard.js';
import type { DesktopInput } from './DesktopInput.js';
import { controlMetrics } from './controlMetrics.js';
import { HeldInput, keyId, type KeyEvent } from './HeldInput.js';
import { keycodeForCode, keysymForKey, xButtonForDomButton } from './keysyms.js';
import { TokenBucket } from './TokenBucket.js';

const log = createLogger('control');

/** Control is released after this long without a heartbeat from its holder. */
const HEARTBEAT_TIMEOUT_MS = 4 * CONTROL_HEARTBEAT_MS;
/** Input events per connection: sustained rate and burst (a fast typist's burst is a few hundred). */
const INPUT_RATE_PER_S = 1000;
const INPUT_BURST = 2000;
/** X's VoidSymbol: a raw key whose browser key names no keysym (the injector presses the keycode). */
const VOID_SYMBOL = 0xffffff;
/** At most one `input.rejected` notice per connection and code this often. */
const REJECT_NOTICE_INTERVAL_MS = 1000;

type RejectCode = 'bad-request' | 'no-control' | 'rate-limited';

export type ControlRequest = RequestIn<'control'> | RequestIn<'clipboard'> | RequestIn<'admin'>;

export interface RemoteControlOptions {
  policy: ControlPolicy;
  clipboardRead: boolean;
  /**
   * Opens the desktop's input; rejects with what went wrong and what to do. Called when the
   * policy first allows control (at start, or when the admin turns control on), again after a failure.
   */
  openInput: () => Promise<DesktopInput>;
  clipboard: DesktopClipboard;
  /** Size of the captured screen, to map video coordinates to screen pixels. */
  screenSize: () => { width: number; height: number };
  audience: Audience;
  /** The viewer cap in force (shown to the admin) and the admin's --max-viewers change. */
  capacity: { status(): CapacityStatus; setMaxViewers(maxViewers: number): CapacityStatus };
}

interface PerConnection {
  bucket: TokenBucket;
  /** When each rejection code was last told to this connection. */
  lastRejectNotice: Map<RejectCode, number>;
}

/**
 * Remote control of the desktop: who holds it (the lease, granted by the admin or taken
 * freely), the admin's actions, the controller's input into the desktop and the clipboard.
 * Input from anyone else is dropped, never injected, and its sender is told why.
 */
export class RemoteControl {
  readonly #options: RemoteControlOptions;
  readonly #lease: ControlLease;
  readonly #connections = new Map<string, PerConnection>();
  readonly #heartbeatTimer: NodeJS.Timeout;
  /** What the holder has down on the desktop (released when control changes hands). */
  readonly #held = new HeldInput();
  #clipboardRead: boolean;
  #input: DesktopInput | undefined;
  #opening: Promise<DesktopInput | undefined> | undefined;
  #unavailableReason = '';
  #closed = false;
  /** Sub-pixel relative motion not yet sent (pointer lock at a video scale other than 1). */
  #relativeRest = { dx: 0, dy: 0 };

  /** Opens the desktop's input at once unless the policy is `off` (then when the admin turns control on). */
  static async create(options: RemoteControlOptions): Promise<RemoteControl> {
    const control = new RemoteControl(options);
    if (options.policy !== 'off') await control.#openInput();
    return control;
  }

  private constructor(options: RemoteControlOptions) {
    this.#options = options;
    this.#clipboardRead = options.clipboardRead;
    this.#lease = new ControlLease({ policy: options.policy, heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS });
    this.#lease.on('changed', ({ reason, previousHolder }) => {
      if (previousHolder !== undefined) {
        // Whatever the previous holder pressed must not stay pressed.
        this.#releaseHeld();
        log.info(`viewer ${previousHolder} lost control (${reason})`);
      }
      if (this.#lease.holder && reason === 'granted') log.info(`viewer ${this.#lease.holder} has control`);
      controlMetrics.controlled.set(this.#lease.holder ? 1 : 0);
      this.#broadcastState();
    });
    this.#heartbeatTimer = setInterval(() => this.#lease.checkHeartbeat(), CONTROL_HEARTBEAT_MS);
    this.#heartbeatTimer.unref();
    options.audience.on('viewerConnected', (viewer) => this.#attach(viewer));
    options.audience.on('viewersChanged', () => this.#pushAdminViewers());
  }

  get policy(): ControlPolicy {
    return this.#lease.policy;
  }

  health(): ModuleHealth {
    if (this.#lease.policy === 'off') return { status: 'off', reason: 'remote control is off' };
    if (!this.#input) return { status: 'degraded', reason: this.#unavailableReason || 'the desktop\'s input is being opened' };
    return { status: 'ok', reason: '' };
  }

  async handle(viewer: Viewer, request: ControlRequest): Promise<ResponseData<RequestMethod>> {
    if (request.method.startsWith('admin.') && viewer.role !== 'admin') {
      throw new RequestError('forbidden', `"${request.method}" needs the admin link (its own token); this connection is a viewer.`);
    }
    switch (request.method) {
      case 'control.request': {
        if (this.#lease.policy !== 'off') await this.#requireInput();
        const result = this.#lease.request(viewer.id, viewer.role === 'admin');
        if (result.outcome === 'refused') throw new RequestError(result.code, result.message);
        return this.#stateFor(viewer);
      }
      case 'control.release':
        this.#lease.release(viewer.id);
        return this.#stateFor(viewer);
      case 'clipboard.write':
        this.#requireControl(viewer);
        await this.#options.clipboard.write(request.data.text);
        return {};
      case 'clipboard.read':
        this.#requireControl(viewer);
        if (!this.#clipboardRead) {
          throw new RequestError('forbidden', 'Copying from the desktop is not allowed on this broadcast; the admin can allow it.');
        }
        return { text: await this.#options.clipboard.read() };
      case 'admin.listViewers':
        return this.#adminViewers();
      case 'admin.grantControl': {
        const target = this.#options.audience.viewer(request.data.viewerId);
        if (!target) throw new RequestError('bad-request', `admin.grantControl: no viewer "${request.data.viewerId}".`);
        if (this.#lease.policy === 'off') throw new RequestError('control-off', 'Remote control is off: set the policy to "request" or "free" first.');
        await this.#requireInput();
        this.#lease.grant(target.id);
        return {};
      }
      case 'admin.revokeControl':
        this.#lease.revoke();
        return {};
      case 'admin.kick':
        if (!this.#options.audience.kick(request.data.viewerId, 'The admin removed you from this broadcast.')) {
          throw new RequestError('bad-request', `admin.kick: no viewer "${request.data.viewerId}".`);
        }
        return {};
      case 'admin.setControlPolicy':
        // Turning control on opens the desktop's input first: a policy that lets viewers ask
        // while nothing can be injected would grant control that silently drops every key.
        if (request.data.policy !== 'off' && !(await this.#openInput())) {
          throw new RequestError(
            'unavailable',
            `The control policy stays "${this.#lease.policy}": ${this.#unavailableReason}. Fix that on the host, then set the policy again.`,
          );
        }
        log.info(`control policy: ${request.data.policy} (set by the admin)`);
        this.#lease.setPolicy(request.data.policy);
        return {};
      case 'admin.setClipboardRead':
        this.#clipboardRead = request.data.allowed;
        this.#broadcastState();
        return {};
      case 'admin.setMaxViewers': {
        const status = this.#options.capacity.setMaxViewers(request.data.maxViewers);
        this.#pushAdminViewers();
        return status;
      }
      default:
        return assertUnreachable(request);
    }
  }

  /** An `input` event from a connection: validated, checked against the lease and the rate limit, injected. */
  onInput(viewer: Viewer, raw: unknown): void {
    let event: InputEvent;
    try {
      event = parseInputEvent(raw);
    } catch (err) {
      controlMetrics.inputDropped.inc({ reason: 'bad-request' });
      this.#reject(viewer, 'bad-request', (err as Error).message);
      return;
    }
    if (event.type === 'heartbeat') {
      this.#lease.heartbeat(viewer.id);
      return;
    }
    if (!this.#lease.holds(viewer.id)) {
      controlMetrics.inputDropped.inc({ reason: 'no-control' });
      this.#reject(viewer, 'no-control', 'Your input was not sent to the desktop: you do not have control. Ask for control first.');
      return;
    }
    const state = this.#connections.get(viewer.id);
    // A release is never rate-limited: dropping a key-up would leave the key down. Only releases
    // of something held pass free, so they cannot be used to flood.
    if (state && !this.#held.letsGo(event) && !state.bucket.take()) {
      controlMetrics.inputDropped.inc({ reason: 'rate-limited' });
      this.#reject(viewer, 'rate-limited', 'Too much input at once: some events were dropped. Send less than 1000 events a second.');
      return;
    }
    const input = this.#input;
    if (!input) return;
    this.#lease.heartbeat(viewer.id); // input proves the holder is alive as well
    controlMetrics.inputEvents.inc({ type: event.type });
    try {
      this.#inject(input, event);
    } catch (err) {
      // The injector refused what validation let through: a bug to fix, never a crash.
      controlMetrics.inputDropped.inc({ reason: 'bad-request' });
      log.error(`input ${JSON.stringify(event)} could not be injected: ${(err as Error).message}`);
      this.#reject(viewer, 'bad-request', `That input could not be sent to the desktop: ${(err as Error).message}`);
    }
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#heartbeatTimer);
    this.#input?.releaseAll();
    this.#input?.close();
    this.#input = undefined;
    this.#options.clipboard.close();
  }

  /** The desktop's input, opened now if it is not yet; undefined (reason logged, kept for health) when it cannot be. */
  #openInput(): Promise<DesktopInput | undefined> {
    if (this.#input) return Promise.resolve(this.#input);
    this.#opening ??= this.#options.openInput().then(
      (input) => {
        this.#opening = undefined;
        if (this.#closed) {
          input.close();
          return undefined;
        }
        this.#input = input;
        this.#unavailableReason = '';
        // Nothing may be held down from a crashed controller.
        input.releaseAll();
        return input;
      },
      (err: unknown) => {
        this.#opening = undefined;
        this.#unavailableReason = (err as Error)?.message ?? String(err);
        log.error(`${this.#unavailableReason}. Remote control is unavailable; the broadcast goes on view-only.`);
        return undefined;
      },
    );
    return this.#opening;
  }

  async #requireInput(): Promise<void> {
    if (!(await this.#openInput())) throw new RequestError('unavailable', `Remote control is not available: ${this.#unavailableReason}`);
  }

  #releaseHeld(): void {
    this.#held.clear();
    this.#relativeRest = { dx: 0, dy: 0 };
    this.#input?.releaseAll();
  }

  #inject(input: DesktopInput, event: Exclude<InputEvent, { type: 'heartbeat' }>): void {
    switch (event.type) {
      case 'pointer': {
        const screen = this.#options.screenSize();
        // Video pixel (x, y) covers [x, x + 1): floor, so a click in a pixel's middle lands on that pixel.
        input.pointerMove(Math.floor((event.x * screen.width) / event.width), Math.floor((event.y * screen.height) / event.height));
        break;
      }
      case 'pointerRelative': {
        // Whole pixels now, the fraction with the next move: slow motion at a scale above 1 still moves.
        const dx = this.#relativeRest.dx + event.dx;
        const dy = this.#relativeRest.dy + event.dy;
        const whole = { dx: Math.trunc(dx), dy: Math.trunc(dy) };
        this.#relativeRest = { dx: dx - whole.dx, dy: dy - whole.dy };
        if (whole.dx !== 0 || whole.dy !== 0) input.pointerMoveRelative(whole.dx, whole.dy);
        break;
      }
      case 'button':
        this.#held.button(event.button, event.down);
        input.button(xButtonForDomButton(event.button), event.down);
        break;
      case 'wheel':
        input.scroll(event.dx, event.dy);
        break;
      case 'key':
        for (const key of this.#held.keyEvents(event)) injectKey(input, key);
        break;
      case 'text':
        input.text(event.text);
        break;
      case 'releaseAll':
        this.#held.clear();
        input.releaseAll();
        break;
      default:
        assertUnreachable(event);
    }
  }

  #attach(viewer: Viewer): void {
    this.#connections.set(viewer.id, { bucket: new TokenBucket(INPUT_RATE_PER_S, INPUT_BURST), lastRejectNotice: new Map() });
    viewer.connection.notify('control.state', this.#stateFor(viewer));
    if (viewer.role === 'admin') viewer.connection.notify('admin.viewers', this.#adminViewers());
    viewer.once('close', () => {
      this.#connections.delete(viewer.id);
      this.#lease.forget(viewer.id);
    });
  }

  #requireControl(viewer: Viewer): void {
    if (!this.#lease.holds(viewer.id)) throw new RequestError('no-control', 'Only the viewer in control can use the desktop\'s clipboard. Ask for control first.');
  }

  /** Tells the sender why its input was dropped: once a second per code, so a flood is not echoed, yet each kind of mistake is told. */
  #reject(viewer: Viewer, code: RejectCode, message: string): void {
    const state = this.#connections.get(viewer.id);
    const now = Date.now();
    if (!state || now - (state.lastRejectNotice.get(code) ?? -Infinity) < REJECT_NOTICE_INTERVAL_MS) return;
    state.lastRejectNotice.set(code, now);
    viewer.connection.notify('input.rejected', { code, message });
  }

  #stateFor(viewer: Viewer): ControlState {
    return {
      policy: this.#lease.policy,
      youHaveControl: this.#lease.holds(viewer.id),
      youRequested: this.#lease.requested(viewer.id),
      held: this.#lease.holder !== undefined,
      clipboardRead: this.#clipboardRead,
    };
  }

  #broadcastState(): void {
    for (const viewer of this.#options.audience.connections()) viewer.connection.notify('control.state', this.#stateFor(viewer));
    this.#pushAdminViewers();
  }

  #adminViewers(): AdminViewers {
    return {
      viewers: this.#options.audience.connections().map((v) => ({
        viewerId: v.id,
        role: v.role,
        clientName: v.clientName,
        address: v.connection.address,
        workerIndex: v.workerIndex ?? null,
        hasControl: this.#lease.holds(v.id),
        requestedControl: this.#lease.requested(v.id),
      })),
      policy: this.#lease.policy,
      clipboardRead: this.#clipboardRead,
      capacity: this.#options.capacity.status(),
    };
  }

  #pushAdminViewers(): void {
    const list = this.#adminViewers();
    for (const viewer of this.#options.audience.connections()) if (viewer.role === 'admin') viewer.connection.notify('admin.viewers', list);
  }
}

/** One key event into the desktop: the character `key` names (text mode) or the physical key `code` names (raw mode). */
function injectKey(input: DesktopInput, event: KeyEvent): void {
  const keycode = keycodeForCode(event.code);
  const keysym = keysymForKey(event.key, event.code);
  // Text mode needs a character (a dead key types nothing by itself); raw mode a physical key.
  if (event.mode === 'text' ? keysym === 0 : keycode === 0) return;
  input.key({ id: keyId(event), keysym: keysym || VOID_SYMBOL, keycode, down: event.down, mode: event.mode });
}

function assertUnreachable(value: never): never {
  throw new Error(`Unhandled control message: ${JSON.stringify(value)}`);
}
