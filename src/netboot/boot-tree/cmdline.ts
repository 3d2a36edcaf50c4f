import { BOOT_PARAM } from '../../protocol/boot-params.js';

/**
 * The one-line cmdline.txt (pi5-netboot.md §5.1): the console, then what stage 1 and the agent
 * read (protocol/boot-params.ts). Pure.
 */
export interface CmdlineInput {
  /** e.g. `ttyAMA10,115200`, the Pi 5's debug UART. */
  console: string;
  /** Operator additions, placed before ours so ours win if a key repeats. */
  extra: string;
  apiUrl: string;
  serial8: string;
  /** The card the agent writes. */
  target: string;
  token: string;
  runtimeSha256: string;
}

export function renderCmdline(input: CmdlineInput): string {
  const words = [
    `console=${input.console}`,
    ...input.extra.split(/\s+/).filter(Boolean),
    `${BOOT_PARAM.server}=${input.apiUrl}`,
    `${BOOT_PARAM.serial}=${input.serial8}`,
    `${BOOT_PARAM.target}=${input.target}`,
    `${BOOT_PARAM.token}=${input.token}`,
    `${BOOT_PARAM.runtime}=${input.runtimeSha256}`,
  ];
  return `${words.join(' ')}\n`;
}
