import { afterEach, describe, expect, it } from 'vitest';
import { NetLab } from '../helpers/netns.js';

let lab: NetLab | undefined;
afterEach(async () => {
  await lab?.destroy();
});

describe('NetLab (test networks in namespaces)', () => {
  it('connects two namespaces over a veth in 198.18.0.0/15 and cleans up', async () => {
    lab = NetLab.create();
    const server = lab.namespace('srv');
    const client = lab.namespace('cli');
    lab.link(server, 'eth0', '198.18.0.1/24', client, 'eth0', '198.18.0.2/24');
    const listener = lab.spawn(server, [
      process.execPath,
      '-e',
      "require('net').createServer((s) => s.end('hello')).listen(7000, '198.18.0.1', () => console.log('up'))",
    ]);
    await new Promise((resolve) => listener.stdout!.once('data', resolve));
    const got = lab.exec(client, [
      process.execPath,
      '-e',
      "require('net').connect(7000, '198.18.0.1').on('data', (d) => process.stdout.write(d))",
    ]);
    expect(got.stdout).toBe('hello');
    await lab.destroy();
    expect(lab.exec(server, ['true']).code).not.toBe(0);
  });

  it('refuses addresses outside the test range', () => {
    lab = NetLab.create();
    const a = lab.namespace('a');
    const b = lab.namespace('b');
    expect(() => lab!.link(a, 'eth0', '203.0.113.1/24', b, 'eth0', null)).toThrow('outside 198.18.0.0/15');
  });
});
