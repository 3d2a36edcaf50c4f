import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * What a new user hit (issue 13): a missing --file printed a Node stack trace, and unknown venues
 * were handled unevenly. Every such mistake is now one line starting "error:" with what to do.
 */

let dir: ReturnType<typeof tempDir>;
beforeAll(() => {
  dir = tempDir();
  expect(cli(['venue', 'add', 'CORO', '--name', 'x']).code).toBe(0);
  mkdirSync(join(dir.path, 'a-folder'));
});
afterAll(() => dir.remove());

const cli = (args: string[]) => runCli([...args, '--data-dir', dir.path]);

/** One line, no stack trace. */
function expectOneLine(stderr: string, message: string): void {
  expect(stderr).toBe(`error: ${message}\n`);
}

describe('a --file that cannot be read', () => {
  it.each([[['pool', 'import', 'CORO']], [['firstboot', 'set', '--product', 'KXP2']]])(
    '%j: a missing file is one line naming it, exit 2',
    (args) => {
      const missing = join(dir.path, 'missing.csv');
      const r = cli([...args, '--file', missing]);
      expect(r.code).toBe(2);
      expectOneLine(r.stderr, `cannot read --file ${missing}: no such file; check the path`);
    },
  );

  it.each([[['pool', 'import', 'CORO']], [['firstboot', 'set', '--product', 'KXP2']]])(
    '%j: a directory is one line saying so, exit 2',
    (args) => {
      const folder = join(dir.path, 'a-folder');
      const r = cli([...args, '--file', folder]);
      expect(r.code).toBe(2);
      expectOneLine(r.stderr, `cannot read --file ${folder}: it is a directory; check the path`);
    },
  );
});

describe('an unknown venue', () => {
  it.each([
    [['deployments', '--venue', 'ZZZZ']],
    [['deployments', 'list', '--venue', 'ZZZZ', '--json']],
    [['pool', 'stats', 'ZZZZ']],
    [['pool', 'import', 'ZZZZ', '--range', '1-3']],
    [['pool', 'list', 'ZZZZ']],
  ])('%j is an error, exit 1', (args) => {
    const r = cli(args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expectOneLine(r.stderr, 'Venue ZZZZ does not exist; create it with: rpi-deploy venue add ZZZZ --name "…"');
  });

  it('an unknown product in deployments --product is an error too', () => {
    const r = cli(['deployments', '--product', 'NOPE']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Product NOPE does not exist[^\n]*\n$/);
  });
});

describe('pool import with entries it cannot use', () => {
  it('--range 60-1 adds nothing: the report, then an error, exit 1', () => {
    const r = cli(['pool', 'import', 'CORO', '--range', '60-1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      'CORO/KXP2: added 0, duplicates 0, invalid 1\n  line 1: range 60-1 runs backwards; write 1-60\n',
    );
    expectOneLine(r.stderr, '1 invalid entry was not added (see above); correct and import it again');
  });

  it('valid ranges beside a bad one are added, and the exit code still says something was wrong', () => {
    const r = cli(['pool', 'import', 'CORO', '--range', '1-3', '--range', '9-7', '--range', '20-x']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^CORO\/KXP2: added 3, duplicates 0, invalid 2\n/);
    expectOneLine(r.stderr, '2 invalid entries were not added (see above); correct and import them again');
    expect(cli(['pool', 'stats', 'CORO', '--json']).stdout).toContain('"available": 3');
  });
});
