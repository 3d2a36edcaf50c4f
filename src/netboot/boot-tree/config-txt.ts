/**
 * The config.txt a board reads first (docs/pi5-netboot.md §5.1). Pure. It names the kernel from the
 * boot files and our stage-1 initramfs; everything the board needs to find us goes on the kernel
 * command line (cmdline.ts), which the firmware reads from cmdline.txt beside this file.
 */
export interface ConfigTxtInput {
  serial8: string;
  /** `kernel_2712.img` or `kernel8.img`, whichever the boot files have. */
  kernel: string;
  initramfs: string;
}

export function renderConfigTxt(input: ConfigTxtInput): string {
  return [
    `# rpi-deploy network boot for board ${input.serial8}. Generated on every request; do not edit.`,
    '[all]',
    'arm_64bit=1',
    `kernel=${input.kernel}`,
    // `followkernel` loads the initramfs right after the kernel; no auto_initramfs name guessing.
    `initramfs ${input.initramfs} followkernel`,
    // The bootloader and the kernel log to the UART, which is how a board that fails is diagnosed.
    'enable_uart=1',
    'uart_2ndstage=1',
    '',
  ].join('\n');
}
