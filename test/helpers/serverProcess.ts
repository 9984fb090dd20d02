// Runs one deskcast server in its own process (e.g. inside a network namespace:
// `ip netns exec NS npx tsx test/helpers/serverProcess.ts [--noise] -- FLAGS…`), prints
// {"port", "token", "adminToken", "display"} as one JSON line on stdout once it is up, and closes
// it on SIGTERM. --noise puts an xterm scrolling random text on the desktop, so the encoder
// produces its full bitrate.
import { spawn, type ChildProcess } from 'node:child_process';
import { DeskcastServer } from '../../server/DeskcastServer.js';
import { parseSettings } from '../../server/settings/parseSettings.js';
import { setLogLevel } from '../../server/util/logger.js';
import { testDefaults } from './deskcast.js';

const args = process.argv.slice(2);
const split = args.indexOf('--');
const own = split === -1 ? [] : args.slice(0, split);
const flags = split === -1 ? args : args.slice(split + 1);
setLogLevel((process.env['DESKCAST_TEST_LOG_LEVEL'] as 'info' | undefined) ?? 'warn');

let server: DeskcastServer;
try {
  server = await DeskcastServer.create({ settings: parseSettings([...testDefaults(flags), ...flags], {}), embeddedDemoContent: false });
} catch (err) {
  process.stderr.write(`serverProcess: ${(err as Error).message}\n`);
  process.exit(1);
}
let noise: ChildProcess | undefined;
if (own.includes('--noise')) {
  noise = spawn('xterm', ['-display', server.display, '-geometry', '120x45+0+0', '-e', 'sh', '-c', 'while :; do head -c 4000 /dev/urandom | base64; sleep 0.03; done'], { stdio: 'ignore' });
}
process.stdout.write(`${JSON.stringify({ port: server.port, token: server.token, adminToken: server.adminToken, display: server.display })}\n`);
const stop = async (): Promise<void> => {
  noise?.kill();
  await server.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
