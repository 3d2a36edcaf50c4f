import { describe, expect, it } from 'vitest';
import { parseAgentArgs, parseBytes } from './cli.js';
import { parseKernelCmdline } from './identify.js';

const BOOT = parseKernelCmdline(
  'console=tty1 rpi_deploy.server=http://198.18.0.1:5001 rpi_deploy.target=/dev/mmcblk0 rpi_deploy.token=abcdefghijklmnop1234 rpi_deploy.reboot=1',
);

describe('parseAgentArgs', () => {
  it('takes server, target, token and reboot from the kernel command line of a netbooted board', async () => {
    expect(await parseAgentArgs([], BOOT)).toMatchObject({
      options: {
        server: 'http://198.18.0.1:5001',
        target: '/dev/mmcblk0',
        bootToken: 'abcdefghijklmnop1234',
        reboot: true,
      },
    });
  });

  it('--no-delta turns delta re-image off for this run; without it the product decides', async () => {
    expect(await parseAgentArgs(['--no-delta'], BOOT)).toMatchObject({ options: { delta: false } });
    const r = await parseAgentArgs([], BOOT);
    expect(r !== 'help' && r.options.delta).toBeUndefined();
  });

  it('lets flags win over the command line', async () => {
    const r = await parseAgentArgs(
      [
        '--server',
        'http://127.0.0.1:5001',
        '--target',
        '/tmp/card.img',
        '--mac',
        '2c:cf:67:00:00:01',
        '--mac',
        '2c:cf:67:00:00:02',
        '--write-rate',
        '20M',
        '--parallel',
        '2',
      ],
      BOOT,
    );
    expect(r).toMatchObject({
      options: {
        server: 'http://127.0.0.1:5001',
        target: '/tmp/card.img',
        macs: ['2c:cf:67:00:00:01', '2c:cf:67:00:00:02'],
        writeRateBytesPerSec: 20 * 1024 * 1024,
        parallel: 2,
      },
    });
  });

  it.each([
    [[], 'No server'],
    [['--server', 'http://x:1'], 'No target'],
    [['--server', 'not a url', '--target', '/x'], 'not a URL'],
    [['--server', 'http://x:1', '--target', '/x', '--parallel', '0'], 'whole number above 0'],
    [['--server', 'http://x:1', '--target', '/x', '--write-rate', 'fast'], 'number of bytes'],
    [['--server', 'http://x:1', '--target', '/x', 'extra'], 'positional'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('refuses %j with AGENT_USAGE', async (argv, message) => {
    await expect(parseAgentArgs(argv, new Map())).rejects.toMatchObject({
      code: 'AGENT_USAGE',
      message: expect.stringContaining(message),
    });
  });

  it('answers --help', async () => expect(await parseAgentArgs(['--help'], new Map())).toBe('help'));
});

describe('parseBytes', () => {
  it.each([
    ['1000', 1000],
    ['4K', 4096],
    ['1.5M', 1572864],
    ['2g', 2 * 1024 ** 3],
  ])('%s → %d', (text, want) => expect(parseBytes('x', text)).toBe(want));
});
