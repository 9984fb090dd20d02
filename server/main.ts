// deskcast entry point: `npm start -- [settings]` (see --help).
import { DeskcastServer } from './DeskcastServer.js';
import { repairAudio } from './audio/repairAudio.js';
import { helpText, parseSettings, SettingsError } from './settings/parseSettings.js';
import { createLogger, logLevelShows, setLogLevel } from './util/logger.js';

const log = createLogger('main');

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
  process.stdout.write(`\nViewer link: ${server.viewerUrl}\nAdmin link:  ${server.adminUrl}  (keep it to yourself: it grants control)\n\n`);
  log.info(`capturing ${server.desktopName}; health at /healthz, metrics at /metrics; Ctrl+C stops`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info(`${signal}: shutting down`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
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
