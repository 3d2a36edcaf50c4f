import { parseArgs } from 'node:util';
import { BOOT_PARAMS } from '../protocol/agent-api.js';
import { AgentError } from './errors.js';
import { readKernelCmdline, REAL_ROOTS } from './identify.js';
import { streamLog, SILENT_LOG } from './log.js';
import { runAgent, type AgentOptions } from './run.js';

export const AGENT_USAGE = `Usage: rpi-deploy agent --server URL --target PATH [options]

Writes this board's image to its card, verifies it, customises its first boot and reports
every step to the rpi-deploy server. On a netbooted board every value can come from the
kernel command line (${Object.values(BOOT_PARAMS).join(', ')}); flags win.

  --server URL          device API, e.g. http://192.168.151.1:5001
  --target PATH         the card (/dev/mmcblk0) or an existing file standing in for one
  --serial HEX          board serial (default: device tree, /proc/cpuinfo)
  --mac MAC             a MAC address; repeat for several (default: /sys/class/net)
  --model TEXT          board model (default: device tree)
  --venue CODE          venue (default: the server decides)
  --product CODE        product (default: the server decides)
  --boot-token TOKEN    the per-boot token netboot gave this board
  --reboot              reboot into the card after success
  --parallel N          chunk downloads at once (default 4)
  --write-rate RATE     cap writes, e.g. 20M (bytes/s; K, M, G suffixes)
  --verify-batch SIZE   bytes written between two read-backs (default 32M); a restarted
                        board resumes from the last verified batch
  --retry-for SECONDS   how long the server may be unreachable (default 600)
  --no-delta            write the whole image even where the product allows a delta
                        re-image (reading the card first, writing only what differs)
  --no-peers            fetch every chunk from the server (default: fleet mode, boards
                        pass chunks on to each other as the server's tracker says)
  --peer-wait MS        how long this board holds a request for a chunk it does not have
                        yet before the asking board goes to the server (default 5000)
  --json                print the result as JSON on stdout
  --quiet               log nothing on stderr
  -h, --help            this text

Exit codes: 0 success, 1 failed (reported to the server when possible), 2 usage.`;

/** Turns `20M` into 20971520; K, M and G are powers of 1024. */
export function parseBytes(flag: string, text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([KMG]?)$/i.exec(text.trim());
  if (!m || Number(m[1]) === 0)
    throw new AgentError('AGENT_USAGE', `--${flag} ${text}: expected a number of bytes such as 20M`, {});
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(m[1]) * unit);
}

function positiveInt(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text))
    throw new AgentError('AGENT_USAGE', `--${flag} ${text}: expected a whole number above 0`, {});
  return Number(text);
}

/** Agent options from argv, filled in from the kernel command line. */
export async function parseAgentArgs(
  argv: string[],
  cmdline: Map<string, string>,
): Promise<{ options: AgentOptions; json: boolean; quiet: boolean } | 'help'> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: 'string' },
        target: { type: 'string' },
        serial: { type: 'string' },
        mac: { type: 'string', multiple: true },
        model: { type: 'string' },
        venue: { type: 'string' },
        product: { type: 'string' },
        'boot-token': { type: 'string' },
        reboot: { type: 'boolean' },
        parallel: { type: 'string' },
        'write-rate': { type: 'string' },
        'verify-batch': { type: 'string' },
        'retry-for': { type: 'string' },
        'no-delta': { type: 'boolean' },
        'no-peers': { type: 'boolean' },
        'peer-wait': { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new AgentError('AGENT_USAGE', (err as Error).message, {});
  }
  if (values.help) return 'help';
  const boot = (key: keyof typeof BOOT_PARAMS) => cmdline.get(BOOT_PARAMS[key]) || undefined;
  const server = values.server ?? boot('server');
  const target = values.target ?? boot('target');
  if (!server)
    throw new AgentError(
      'AGENT_USAGE',
      `No server: pass --server URL (or ${BOOT_PARAMS.server}= on the kernel command line)`,
      {},
    );
  if (!target)
    throw new AgentError(
      'AGENT_USAGE',
      `No target: pass --target PATH (or ${BOOT_PARAMS.target}= on the kernel command line)`,
      {},
    );
  try {
    new URL(server);
  } catch {
    throw new AgentError('AGENT_USAGE', `--server ${server}: not a URL (expected e.g. http://192.168.151.1:5001)`, {});
  }
  const retryForSeconds = positiveInt('retry-for', values['retry-for']);
  return {
    json: values.json ?? false,
    quiet: values.quiet ?? false,
    options: {
      server,
      target,
      serial: values.serial ?? boot('serial'),
      macs: values.mac,
      model: values.model,
      venue: values.venue ?? boot('venue'),
      product: values.product ?? boot('product'),
      bootToken: values['boot-token'] ?? boot('bootToken'),
      reboot: values.reboot ?? ['1', 'yes', 'true'].includes(cmdline.get(BOOT_PARAMS.reboot) ?? ''),
      parallel: positiveInt('parallel', values.parallel),
      writeRateBytesPerSec:
        values['write-rate'] === undefined ? undefined : parseBytes('write-rate', values['write-rate']),
      verifyBatchBytes:
        values['verify-batch'] === undefined ? undefined : parseBytes('verify-batch', values['verify-batch']),
      retryForMs: retryForSeconds === undefined ? undefined : retryForSeconds * 1000,
      delta: values['no-delta'] ? false : undefined,
      peers: !values['no-peers'],
      peerOptions:
        values['peer-wait'] === undefined ? undefined : { waitMs: positiveInt('peer-wait', values['peer-wait']) },
    },
  };
}

/** `rpi-deploy agent …` and the bundled agent: returns the exit code. */
export async function agentMain(argv: string[], signal?: AbortSignal): Promise<number> {
  let parsed;
  try {
    parsed = await parseAgentArgs(argv, await readKernelCmdline(REAL_ROOTS));
  } catch (err) {
    if (!(err instanceof AgentError)) throw err;
    process.stderr.write(`error: ${err.message}\n(run with --help for usage)\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(`${AGENT_USAGE}\n`);
    return 0;
  }
  const result = await runAgent({ ...parsed.options, log: parsed.quiet ? SILENT_LOG : streamLog() }, signal);
  if (parsed.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  return result.status === 'success' ? 0 : 1;
}
