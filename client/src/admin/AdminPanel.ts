// The admin's panel: who is connected (role, worker, control), grant / revoke control, kick,
// the control policy, whether the controller may copy the desktop's clipboard, the viewer cap in
// force (which limit binds; --max-viewers can be changed here), a screenshot and the record
// button (the taps' HTTP API, with the admin token of this page's link).
import type { AdminViewers, ControlPolicy, RecordingList, RequestData, RequestMethod } from '../../../shared/protocol';
import type { SignalingClient } from '../SignalingClient';

export class AdminPanel {
  readonly #root: HTMLElement;
  readonly #signaling: SignalingClient;
  readonly #list: HTMLTableSectionElement;
  readonly #policy: HTMLSelectElement;
  readonly #clipboard: HTMLInputElement;
  readonly #error: HTMLElement;
  readonly #capacity: HTMLElement;
  readonly #maxViewers: HTMLInputElement;
  readonly #record: HTMLButtonElement;
  readonly #recording: HTMLElement;
  readonly #token = new URLSearchParams(location.search).get('t') ?? '';
  #recordingTimer: number | undefined;

  constructor(root: HTMLElement, signaling: SignalingClient) {
    this.#root = root;
    this.#signaling = signaling;
    this.#list = root.querySelector('tbody')!;
    this.#policy = root.querySelector<HTMLSelectElement>('#admin-policy')!;
    this.#clipboard = root.querySelector<HTMLInputElement>('#admin-clipboard')!;
    this.#error = root.querySelector<HTMLElement>('#admin-error')!;
    this.#capacity = root.querySelector<HTMLElement>('#admin-capacity')!;
    this.#maxViewers = root.querySelector<HTMLInputElement>('#admin-max-viewers')!;
    this.#maxViewers.addEventListener('change', () => {
      const maxViewers = Number(this.#maxViewers.value);
      if (!Number.isInteger(maxViewers) || maxViewers < 1 || maxViewers > 100_000) {
        this.#error.textContent = 'Max viewers must be a whole number from 1 to 100000.';
        return;
      }
      this.#act('admin.setMaxViewers', { maxViewers });
    });
    this.#policy.addEventListener('change', () => this.#act('admin.setControlPolicy', { policy: this.#policy.value as ControlPolicy }));
    this.#clipboard.addEventListener('change', () => this.#act('admin.setClipboardRead', { allowed: this.#clipboard.checked }));
    root.querySelector('#admin-revoke')!.addEventListener('click', () => this.#act('admin.revokeControl', {}));
    signaling.socket.on('admin.viewers', (list) => this.render(list));
    this.#record = root.querySelector<HTMLButtonElement>('#admin-record')!;
    this.#recording = root.querySelector<HTMLElement>('#admin-recording')!;
    root.querySelector('#admin-screenshot')!.addEventListener('click', () => {
      window.open(`/api/screenshot?t=${encodeURIComponent(this.#token)}`, '_blank', 'noopener');
    });
    this.#record.addEventListener('click', () => {
      const recording = this.#record.getAttribute('aria-pressed') === 'true';
      void this.#api(recording ? 'DELETE' : 'POST', recording ? '/api/recordings/current' : '/api/recordings').then(() => this.#refreshRecording());
    });
  }

  show(): void {
    this.#root.hidden = false;
    void this.#refreshRecording();
    this.#recordingTimer ??= window.setInterval(() => void this.#refreshRecording(), 3000);
    void this.#signaling.request('admin.listViewers', {}).then((list) => this.render(list), () => undefined);
  }

  render(list: AdminViewers): void {
    this.#policy.value = list.policy;
    this.#clipboard.checked = list.clipboardRead;
    const c = list.capacity;
    if (document.activeElement !== this.#maxViewers) this.#maxViewers.value = String(c.limits.maxViewers);
    this.#capacity.dataset['binding'] = c.binding;
    this.#capacity.textContent =
      `${c.watching} of ${c.cap} watching; the cap is set by ${c.binding} ` +
      `(max viewers ${c.limits.maxViewers}, upstream ${c.limits.upstream} at ${c.upstreamMbps} Mb/s ${c.upstreamSource}, CPU ${c.limits.cpu})` +
      (c.paused ? `. New viewers wait: ${c.paused}` : '');
    const rows = list.viewers.map((v) => {
      const row = document.createElement('tr');
      row.dataset['viewerId'] = v.viewerId;
      const control = v.hasControl ? 'in control' : v.requestedControl ? 'asks for control' : '';
      for (const text of [v.clientName || v.viewerId.slice(0, 8), v.role, v.workerIndex === null ? '–' : String(v.workerIndex), control]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      const actions = document.createElement('td');
      if (!v.hasControl) actions.append(this.#button('Grant control', 'grant', () => this.#act('admin.grantControl', { viewerId: v.viewerId })));
      if (v.role !== 'admin') actions.append(this.#button('Kick', 'kick', () => this.#act('admin.kick', { viewerId: v.viewerId })));
      row.append(actions);
      return row;
    });
    this.#list.replaceChildren(...rows);
  }

  #button(label: string, action: string, onClick: () => void): HTMLButtonElement {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.dataset['action'] = action;
    b.addEventListener('click', onClick);
    return b;
  }

  async #refreshRecording(): Promise<void> {
    const list = (await this.#api('GET', '/api/recordings')) as RecordingList | undefined;
    if (!list) return;
    const current = list.recording;
    this.#record.textContent = current ? 'Stop' : 'Record';
    this.#record.setAttribute('aria-pressed', String(Boolean(current)));
    this.#recording.textContent = current
      ? `● ${current.name} (${Math.round(current.durationSec ?? 0)} s, ${(current.bytes / 1e6).toFixed(1)} MB)`
      : `${list.recordings.length} recording(s) in ${list.dir}`;
  }

  async #api(method: string, path: string): Promise<unknown> {
    this.#error.textContent = '';
    try {
      const res = await fetch(path, { method, headers: { authorization: `Bearer ${this.#token}` } });
      const body = (await res.json()) as { error?: string };
      if (!res.ok) throw new Error(body.error ?? `${method} ${path}: ${res.status}`);
      return body;
    } catch (err) {
      this.#error.textContent = (err as Error).message;
      return undefined;
    }
  }

  #act<M extends RequestMethod>(method: M, data: RequestData<M>): void {
    this.#error.textContent = '';
    this.#signaling.request(method, data).catch((err: Error) => {
      this.#error.textContent = err.message;
      // A refused change (e.g. control could not be turned on): show what is in force again.
      void this.#signaling.request('admin.listViewers', {}).then((list) => this.render(list), () => undefined);
    });
  }
}
