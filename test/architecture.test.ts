import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * R1/R2 of docs/style.md, enforced: components talk only through each other's index.ts, arrows
 * point one way, and code that must stay portable (domain, agent) imports nothing it must not.
 */
const SRC = fileURLToPath(new URL('../src', import.meta.url));

/** Which components a component may import. `lib` and `protocol` are shared by everyone. */
const ALLOWED: Record<string, string[]> = {
  // lib/disk (shared by images and the agent) answers in the manifest's own types (ByteRange, Partition).
  lib: ['protocol'],
  protocol: [],
  config: ['lib'],
  store: ['lib'],
  fleet: ['lib', 'protocol', 'store'],
  images: ['lib', 'protocol', 'store'],
  // netboot reads the type of its config slice (R9: handed down from the one schema).
  netboot: ['lib', 'protocol', 'config', 'store', 'fleet', 'images'],
  // device-api maps store errors (a full disk: 503) in its error map, as management does.
  'device-api': ['lib', 'protocol', 'store', 'fleet', 'images', 'netboot'],
  management: ['lib', 'protocol', 'config', 'fleet', 'images', 'netboot', 'store'],
  agent: ['lib', 'protocol'],
  // Runs many real agents in one process against a server, over the device API only.
  simulate: ['lib', 'protocol', 'agent'],
  // Service install, readiness, preflight checks and backups: an operator's tools around the server.
  operations: ['lib', 'protocol', 'config', 'store', 'fleet', 'images', 'netboot'],
  cli: ['*'],
  '.': ['*'],
};

/** Packages that must never reach the domain or the board. */
const FORBIDDEN_PACKAGES: Record<string, RegExp> = {
  fleet: /^(fastify|@fastify\/|better-sqlite3|node:http|node:dgram|commander)/,
  images: /^(fastify|@fastify\/|better-sqlite3|commander)/,
  store: /^(fastify|@fastify\/|commander)/,
  protocol: /^(?!typebox)/,
  agent: /^(fastify|@fastify\/|better-sqlite3|kysely|commander|pino)/,
  simulate: /^(fastify|@fastify\/|better-sqlite3|kysely|commander)/,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

function componentOf(file: string): string {
  const rel = relative(SRC, file).split('/');
  return rel.length === 1 ? '.' : rel[0]!;
}

const files = sourceFiles(SRC);
const importsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

describe('architecture', () => {
  it('finds the source files', () => expect(files.length).toBeGreaterThan(30));

  it.each(files.map((f) => [relative(SRC, f), f]))('%s imports only what its component may', (_rel, file) => {
    const from = componentOf(file);
    const problems: string[] = [];
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) {
        const forbidden = FORBIDDEN_PACKAGES[from];
        if (forbidden?.test(spec)) problems.push(`${spec}: package not allowed in ${from}`);
        continue;
      }
      const target = join(file, '..', spec);
      const to = componentOf(target);
      if (to === from) continue;
      const allowed = ALLOWED[from] ?? [];
      if (!allowed.includes('*') && !allowed.includes(to)) problems.push(`${spec}: ${from} must not depend on ${to}`);
      const shared = to === 'lib' || to === 'protocol' || to === '.';
      if (!shared && !relative(SRC, target).endsWith('/index.js'))
        problems.push(`${spec}: import ${to} through its index.ts`);
    }
    expect(problems).toEqual([]);
  });

  it('lib/fat, which the on-board agent imports, reaches nothing but Node built-ins', () => {
    const seen = new Set<string>();
    const packages: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of importsOf(file)) {
        if (spec.startsWith('.')) visit(join(file, '..', spec).replace(/\.js$/, '.ts'));
        else if (!spec.startsWith('node:')) packages.push(`${relative(SRC, file)}: ${spec}`);
      }
    };
    visit(join(SRC, 'lib/fat/index.ts'));
    expect(seen.size).toBeGreaterThan(5);
    expect(packages).toEqual([]);
  });
});
