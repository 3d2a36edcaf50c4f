import { createInterface } from 'node:readline';

/**
 * Reads a secret: typed without echo on a terminal, else the first line of standard input
 * (`echo "$PASSWORD" | rpi-deploy user add …`), so scripts never put it on the command line.
 */
export async function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const rl = createInterface({ input: stdin });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    return '';
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  let value = '';
  try {
    for await (const chunk of stdin) {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return value;
        if (ch === '\u0003') throw new Error('cancelled');
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    }
    return value;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}
