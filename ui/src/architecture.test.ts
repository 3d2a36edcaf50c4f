import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The UI's layout rules, enforced: components are presentational (no API, no session, no live
 * subscription: pages fetch and pass data down), the UI takes from the server's source only the
 * shared schemas in src/protocol/, and nothing is loaded from another origin (no CDN).
 */
const UI = fileURLToPath(new URL('.', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|css)$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [path] : [];
  });
}

const files = sourceFiles(UI);
const importsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
/** Imports that bring code, not only types (a component may name an API type it displays). */
const codeImportsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)(?!\s+type\b)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map(
    (m) => m[1]!,
  );

describe('ui architecture', () => {
  it('finds the UI sources', () => expect(files.length).toBeGreaterThan(30));

  it.each(files.filter((f) => f.includes('/components/')).map((f) => [relative(UI, f), f]))(
    '%s does not fetch or subscribe',
    (_rel, file) => {
      const fetching = codeImportsOf(file).filter((spec) =>
        /\/api\/|\/state\/(session|live-fleet|use-resource|use-submit)/.test(spec),
      );
      expect(fetching).toEqual([]);
      expect(readFileSync(file, 'utf8')).not.toMatch(/\bfetch\(|XMLHttpRequest|EventSource/);
    },
  );

  it.each(files.map((f) => [relative(UI, f), f]))('%s takes only src/protocol from the server source', (_rel, file) => {
    const server = importsOf(file).filter((spec) => spec.includes('../src/') && !spec.includes('../src/protocol/'));
    expect(server).toEqual([]);
  });

  it.each(files.map((f) => [relative(UI, f), f]))('%s loads nothing from another origin', (_rel, file) => {
    expect(readFileSync(file, 'utf8')).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}\/|@import\s+url\(/i);
  });
});
