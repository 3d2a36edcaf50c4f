import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DhcpLab, SERVER_ADDRESS } from './helpers/dhcp-lab.js';
const lab = new DhcpLab();
try {
  const s = await lab.serve({ dhcp: { mode: 'full', range: { start: '198.18.0.100', end: '198.18.0.199' }, foreignServer: { probeMs: 500, recheckSeconds: 0 } } });
  const r = lab.replay(lab.client('pi5'), { mac: '2c:cf:67:10:20:30', serial8: '9ffefdef', tftpServer: SERVER_ADDRESS });
  await new Promise((r) => setTimeout(r, 500));
  console.log(s.logs().filter(l => String(l['msg']).startsWith('dhcp')).map(l => JSON.stringify(l)).join('\n'));
  const ns = lab.client('dhc');
  const sc = join(lab.dir.path, 's.sh'); writeFileSync(sc, '#!/bin/sh\necho "EVENT $reason $new_ip_address"\n', { mode: 0o755 });
  const files = ['-sf', sc, '-lf', join(lab.dir.path, 'l'), '-pf', join(lab.dir.path, 'p')];
  console.log(lab.lab.exec(ns, ['dhclient', '-1', '-v', ...files, 'eth0']).stderr);
  console.log(lab.lab.exec(ns, ['dhclient', '-r', '-v', ...files, 'eth0']).stderr);
  const a = lab.lab.exec(ns, ['dhclient', '-1', '-v', ...files, 'eth0']); console.log(a.stderr, a.stdout);
  lab.lab.exec(ns, ['dhclient', '-x', ...files, 'eth0']);
  await s.stop();
} finally { await lab.destroy(); }
