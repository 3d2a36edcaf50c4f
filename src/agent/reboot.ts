import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/**
 * Restarts the board into its freshly written card. The card is already flushed; in the netboot
 * initramfs there is nothing else to stop, so a forced reboot is right. busybox and util-linux
 * both know `reboot -f`; the magic SysRq key is the fallback when no reboot binary exists.
 */
export function rebootNow(procRoot = '/proc'): never | void {
  const r = spawnSync('reboot', ['-f'], { stdio: 'ignore' });
  if (r.status === 0) return;
  writeFileSync(`${procRoot}/sysrq-trigger`, 'b');
}
