import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildStage1, INIT_SCRIPT, UDHCPC_SCRIPT } from './stage1.js';

describe('stage 1', () => {
  it.each([
    ['/init', INIT_SCRIPT],
    ['the udhcpc script', UDHCPC_SCRIPT],
  ])('%s is valid busybox sh', (_name, script) => {
    const r = spawnSync('busybox', ['sh', '-n'], { input: script, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('reads its settings from the kernel command line and checks the bundle it downloads', () => {
    expect(INIT_SCRIPT).toContain('SERVER=$(param rpi_deploy.server)');
    expect(INIT_SCRIPT).toContain('RUNTIME=$(param rpi_deploy.runtime)');
    expect(INIT_SCRIPT).toContain('url="$SERVER/v1/runtime/$RUNTIME.tar.gz"');
    expect(INIT_SCRIPT).toContain('gunzip -f /tmp/runtime.tar.gz');
    expect(INIT_SCRIPT).toContain('[ "$got" = "$RUNTIME" ] || fail');
  });

  it('is a gzip-compressed newc cpio with /init, busybox and the console device', () => {
    const cpio = gunzipSync(buildStage1(Buffer.from('BUSYBOX')));
    const listing = spawnSync('cpio', ['-itv', '--quiet'], { input: cpio, encoding: 'utf8' }).stdout;
    expect(listing).toMatch(/^-rwxr-xr-x .* init$/m);
    expect(listing).toMatch(/^-rwxr-xr-x .* bin\/busybox$/m);
    expect(listing).toMatch(/^crw------- .* 5,\s+1 .* dev\/console$/m);
    expect(listing).toMatch(/^-rwxr-xr-x .* etc\/udhcpc.script$/m);
  });
});
