import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loopbackServe, spawnServe } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The safe default (R9): without netboot.interface, serve opens no DHCP socket at all. */
describe('rpi-deploy serve without netboot.interface', () => {
  it('says network boot is off and opens no UDP socket', async () => {
    const dir = tempDir();
    const { child, banner } = await spawnServe(loopbackServe(dir.path));
    try {
      expect(banner).toMatch(/network boot\s+off \(set netboot\.interface or --netboot-interface\)/);
      const sockets = spawnSync('ss', ['-H', '-uanp'], { encoding: 'utf8' }).stdout;
      expect(sockets.split('\n').filter((l) => l.includes(`pid=${child.pid},`))).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      dir.remove();
    }
  });
});
