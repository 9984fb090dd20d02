import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../server/util/projectRoot.js';

// No Docker engine runs here; Debian's docker-compose still parses and validates the file.
describe('docker-compose.yml', () => {
  it('is a valid compose file exposing the HTTPS and media ports', () => {
    const out = execFileSync('docker-compose', ['-f', join(projectRoot, 'docker-compose.yml'), 'config'], {
      cwd: projectRoot,
      env: { ...process.env, DESKCAST_ANNOUNCED_ADDRESS: '192.0.2.10' },
      encoding: 'utf8',
    });
    expect(out).toMatch(/deskcast:/);
    expect(out).toMatch(/DESKCAST_ANNOUNCED_ADDRESS: 192\.0\.2\.10/);
    // The HTTPS port and one UDP + TCP media port per worker (DESKCAST_WORKERS: 2).
    expect(out).toMatch(/protocol: tcp\s+published: 8443\s+target: 8443/);
    for (const port of [40000, 40001]) {
      for (const protocol of ['udp', 'tcp']) {
        expect(out).toMatch(new RegExp(`protocol: ${protocol}\\s+published: ${port}\\s+target: ${port}`));
      }
    }
    expect(out).toMatch(/DESKCAST_WORKERS: '2'/);
  });

  it('builds with the same set-up script as a host', () => {
    const dockerfile = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-bookworm/m);
    expect(dockerfile).toMatch(/RUN bash scripts\/setup\.sh/);
    expect(dockerfile).toMatch(/CMD \["node", "--enable-source-maps", "dist\/server\/main\.js"\]/);
  });
});
