import { BOOT_PARAMS } from '../../protocol/agent-api.js';

/**
 * The one-line cmdline.txt (docs/pi5-netboot.md §5.1): the console, then what stage 1 and the agent
 * read (BOOT_PARAMS in protocol/agent-api.ts). Pure. No serial: the agent reads the board's full
 * 64-bit serial from its device tree; the token stands for the 8 digits the bootloader showed.
 */
export interface CmdlineInput {
  /** e.g. `ttyAMA10,115200`, the Pi 5's debug UART. */
  console: string;
  /** Operator additions, placed before ours so ours win if a key repeats. */
  extra: string;
  apiUrl: string;
  /** The card the agent writes. */
  target: string;
  token: string;
  runtimeSha256: string;
}

export function renderCmdline(input: CmdlineInput): string {
  const words = [
    `console=${input.console}`,
    ...input.extra.split(/\s+/).filter(Boolean),
    `${BOOT_PARAMS.server}=${input.apiUrl}`,
    `${BOOT_PARAMS.target}=${input.target}`,
    `${BOOT_PARAMS.bootToken}=${input.token}`,
    `${BOOT_PARAMS.runtime}=${input.runtimeSha256}`,
  ];
  return `${words.join(' ')}\n`;
}
