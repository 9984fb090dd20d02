// deskcast entry point: `npm start -- [settings]` (see --help).
import { DeskcastServer } from './DeskcastServer.js';
import { repairAudio } from './audio/repairAudio.js';
import { helpText, parseSettings, SettingsError } from './settings/parseSettings.js';
import { createLogger, logLevelShows, setLogLevel } from './util/logger.js';

const log = createLogger('main');

/** Runs the shutdown stack (spare-keycode bindings, sinks, workers); set once the server is up. */
let shutdown: (() => Promise<void>) | undefined;
/** A shutdown that hangs must not keep a broken process alive. */
const FATAL_SHUTDOWN_TIMEOUT_MS = 5000;
let fatal = false;

/**
 * An uncaught exception or unhandled rejection: a bug. The process cannot go on safely, but it
 * still undoes what it changed on the desktop (keymap bindings, keys held) before it exits.
 */
function onFatal(kind: string, err: unknown): void {
  process.stderr.write(`deskcast: ${kind}: ${(err as Error)?.stack ?? String(err)}\n`);
  if (fatal) return; // already shutting down
  fatal = true;
  const exit = (): never => process.exit(1);
  setTimeout(exit, FATAL_SHUTDOWN_TIMEOUT_MS);
  process.stderr.write('deskcast: shutting down after the error above (please report it)\n');
  void (shutdown?.() ?? Promise.resolve()).then(exit, exit);
}
process.on('uncaughtException', (err) => onFatal('uncaught exception', err));
process.on('unhandledRejection', (reason) => onFatal('unhandled promise rejection', reason));

async function main(): Promise<number> {
  let settings;
  try {
    settings = parseSettings(process.argv.slice(2));
  } catch (err) {
    if (err instanceof SettingsError) {
      process.stderr.write(`deskcast: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (settings.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  setLogLevel(settings.logLevel);
  if (settings.repair) {
    const result = await repairAudio({ server: settings.pulseServer || undefined, cookie: settings.pulseCookie || undefined });
    process.stdout.write(`${result.summary}\n`);
    return result.problems.length > 0 ? 1 : 0;
  }

  const server = await DeskcastServer.create({ settings });
  shutdown = () => server.close();
  process.stdout.write(`\nViewer link: ${server.viewerUrl}\nAdmin link:  ${server.adminUrl}  (keep it to yourself: it grants control)\n\n`);
  log.info(`capturing ${server.desktopName}; health at /healthz, metrics at /metrics; Ctrl+C stops`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info(`${signal}: shutting down`);
      resolve();
    };
    // SIGHUP: the terminal deskcast runs in was closed.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => stop(signal));
  });
  await server.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`deskcast: ${(err as Error)?.message ?? String(err)}\n`);
    if (process.env['DESKCAST_LOG_LEVEL'] === 'debug') process.stderr.write(`${(err as Error)?.stack}\n`);
    process.exit(1);
  },
);
