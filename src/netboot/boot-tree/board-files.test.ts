import { describe, expect, it } from 'vitest';
import { parseKernelCmdline } from '../../agent/identify.js';
import { renderCmdline } from './cmdline.js';
import { renderConfigTxt } from './config-txt.js';

describe('generated config.txt', () => {
  it('names the kernel and the stage-1 initramfs and turns the UART on', () => {
    expect(
      renderConfigTxt({ serial8: '9ffefdef', kernel: 'kernel_2712.img', initramfs: 'rpi-deploy-stage1.img' }),
    ).toBe(
      [
        '# rpi-deploy network boot for board 9ffefdef. Generated on every request; do not edit.',
        '[all]',
        'arm_64bit=1',
        'kernel=kernel_2712.img',
        'initramfs rpi-deploy-stage1.img followkernel',
        'enable_uart=1',
        'uart_2ndstage=1',
        '',
      ].join('\n'),
    );
  });
});

describe('generated cmdline.txt', () => {
  const input = {
    console: 'ttyAMA10,115200',
    extra: '',
    apiUrl: 'http://192.168.151.1:5001',
    target: '/dev/mmcblk0',
    token: 'tok-en_1',
    runtimeSha256: 'ab'.repeat(32),
  };

  it('is one line with the console first and the board parameters after', () => {
    expect(renderCmdline(input)).toBe(
      `console=ttyAMA10,115200 rpi_deploy.server=http://192.168.151.1:5001 rpi_deploy.target=/dev/mmcblk0 rpi_deploy.token=tok-en_1 rpi_deploy.runtime=${'ab'.repeat(32)}\n`,
    );
  });

  it('puts operator additions before its own parameters, and the agent reads ours back', () => {
    const line = renderCmdline({ ...input, extra: '  quiet  rpi_deploy.token=forged ' });
    expect(line.startsWith('console=ttyAMA10,115200 quiet rpi_deploy.token=forged rpi_deploy.server=')).toBe(true);
    const params = parseKernelCmdline(line);
    expect([
      params.get('rpi_deploy.server'),
      params.get('rpi_deploy.target'),
      params.get('rpi_deploy.token'),
      params.get('rpi_deploy.runtime'),
    ]).toEqual([input.apiUrl, '/dev/mmcblk0', 'tok-en_1', input.runtimeSha256]);
  });
});
