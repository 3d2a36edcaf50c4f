import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The project's own eslint.config.js, run on snippets as if they were a script of the repository. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: ROOT, ruleFilter: ({ ruleId }) => ruleId === 'local/explained-catch' });
const flagged = async (code: string) => {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}/scripts/lint/example.mjs` });
  return result!.messages.map((m) => `${m.ruleId}@${m.line}`);
};

describe('local/explained-catch', () => {
  it.each([
    ['.catch(() => undefined)', 'p.catch(() => undefined);'],
    ['.catch(() => {})', 'p.catch(() => {});'],
    ['an unread error parameter', 'p.catch((_err) => []);'],
    ['a rejection handler in .then', 'p.then(() => 1, () => { return null; });'],
    ['awaited with a fallback', 'async function f(p) { return (await p.catch(() => "")).trim(); }'],
  ])('flags a handler that drops the error silently: %s', async (_case, code) => {
    expect(await flagged(`const p = Promise.reject(new Error('x'));\n${code}\n`)).toEqual(['local/explained-catch@2']);
  });

  it.each([
    ['a comment on the line above', '// The reader stopped: nobody waits for this chunk.\np.catch(() => undefined);'],
    ['a comment on the same line', 'p.catch(() => undefined); // read-ahead, see above'],
    ['a comment inside the handler', 'p.catch(() => {\n  /* best effort */\n});'],
    ['a handler that reads the error', 'p.catch((err) => console.error(err));'],
    ['a handler that evicts a cache entry', 'const cache = new Map();\np.catch(() => cache.delete(1));'],
    ['a handler that rethrows', 'p.catch(() => { throw new Error("wrapped"); });'],
  ])('leaves alone %s', async (_case, code) => {
    expect(await flagged(`const p = Promise.reject(new Error('x'));\n${code}\n`)).toEqual([]);
  });
});
