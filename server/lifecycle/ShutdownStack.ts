import { createLogger } from '../util/logger.js';

const log = createLogger('server');

/** Something started at start-up that must be stopped at shutdown. */
export interface Closable {
  close(): unknown;
}

/**
 * The composition root's one shutdown order: every module is registered as it starts and
 * closed newest first, so a module never outlives what it depends on. A failing close is
 * logged and the rest still close.
 */
export class ShutdownStack {
  readonly #entries: { name: string; close: () => unknown }[] = [];
  #closed = false;

  /** Registers `module` under `name` and returns it (so a start-up line stays one line). */
  push<T extends Closable>(name: string, module: T): T {
    this.#entries.push({ name, close: () => module.close() });
    return module;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of this.#entries.reverse()) {
      try {
        await entry.close();
      } catch (err) {
        log.error(`closing ${entry.name} failed: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  }
}
