import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { TSchema } from 'typebox';
import { describe, expect, it } from 'vitest';
import { registerDhcp } from '../cli/commands/dhcp.js';
import { registerServe } from '../cli/commands/serve.js';
import { envName, loadConfig } from './load.js';
import { CONFIG_FLAGS, renderConfigReference } from './reference.js';
import { ConfigSchema } from './schema.js';

type Node = TSchema & Record<string, unknown>;

function leaves(node: Node, path: string[] = []): { path: string[]; node: Node }[] {
  const props = node['properties'] as Record<string, Node> | undefined;
  if (node['type'] !== 'object' || !props) return [{ path, node }];
  return Object.entries(props).flatMap(([key, child]) => leaves(child, [...path, key]));
}

const settings = leaves(ConfigSchema as unknown as Node);

describe('docs/configuration.md', () => {
  it('is what the schema renders to', () => {
    const stored = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    if (stored !== renderConfigReference())
      expect.fail('docs/configuration.md differs from src/config/schema.ts: run npm run docs:config');
  });

  it('gives every setting its heading, default and description', () => {
    const page = renderConfigReference();
    for (const { path, node } of settings) {
      const key = path.join('.');
      const section = page.split(new RegExp(`^#+ \`${key.replace(/\./g, '\\.')}\`$`, 'm'))[1];
      expect(section, key).toBeDefined();
      expect(section!.split('\n#')[0], key).toContain(`default: \`${JSON.stringify(node['default'])}\``);
      expect(typeof node['description'], `${key} needs a description an operator can act on`).toBe('string');
    }
  });

  it('names environment variables the loader accepts', () => {
    for (const { path, node } of settings) {
      const value = node['default'] as string | number | boolean | null | object;
      if (value === null || typeof value === 'object') continue;
      expect(() => loadConfig({ env: { [envName(path)]: String(value) } }), envName(path)).not.toThrow();
    }
  });

  it('names flags the commands have', () => {
    const program = new Command();
    registerServe(program.command('serve'));
    registerDhcp(program.command('dhcp'));
    const command = (name: string) =>
      name.split(' ').reduce<Command | undefined>((at, part) => at?.commands.find((c) => c.name() === part), program);
    for (const [key, flags] of Object.entries(CONFIG_FLAGS)) {
      expect(
        settings.map((s) => s.path.join('.')),
        key,
      ).toContain(key);
      for (const { command: name, flag } of flags) {
        if (name === null) continue;
        expect(
          command(name)?.options.map((o) => o.long),
          `${name} ${flag}`,
        ).toContain(flag);
      }
    }
  });
});
