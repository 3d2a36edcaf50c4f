import type { TSchema } from 'typebox';
import { envName } from './load.js';
import { ConfigSchema, IPV4_PATTERN } from './schema.js';

/**
 * docs/configuration.md, rendered from the schema so that the operator reference cannot drift
 * from what the loader accepts (`npm run docs:config` writes it; a test compares).
 */

type Node = TSchema & Record<string, unknown>;

/**
 * Command-line flags that set a setting. The loader takes flags as dotted paths from the commands
 * (src/cli/commands/*.ts), so the commands, not the schema, know them; reference.test.ts checks
 * that each flag named here exists on its command.
 */
export const CONFIG_FLAGS: Readonly<Record<string, readonly ConfigFlag[]>> = {
  dataDir: [{ command: null, flag: '--data-dir' }],
  'log.level': [{ command: null, flag: '--log-level' }],
  'log.format': [{ command: 'serve', flag: '--log-format' }],
  'device.listen': [{ command: 'serve', flag: '--device-listen' }],
  'management.listen': [{ command: 'serve', flag: '--management-listen' }],
  'netboot.interface': [
    { command: 'serve', flag: '--netboot-interface' },
    { command: 'dhcp probe', flag: '--interface' },
  ],
  'netboot.dhcp.mode': [{ command: 'serve', flag: '--dhcp-mode' }],
  'netboot.dhcp.foreignServer.allowInFullMode': [{ command: 'serve', flag: '--allow-foreign-dhcp' }],
};

/** A flag that sets a setting; `command` null: every command takes it. */
export interface ConfigFlag {
  command: string | null;
  flag: string;
}

const HEADER = `# Configuration reference

<!-- Generated from src/config/schema.ts by \`npm run docs:config\`; edit the schema's descriptions, not this file. -->

rpi-deploy reads one configuration. Each source overrides the one before it:

1. the defaults below (both listeners on 127.0.0.1, network boot off);
2. a YAML file: \`--config FILE\` on any command, or the environment variable \`RPI_DEPLOY_CONFIG\`
   (\`rpi-deploy service install\` writes \`/etc/rpi-deploy/config.yaml\`);
3. environment variables \`RPI_DEPLOY_<PATH>\` (named for each setting below; a list is given
   comma-separated, a boolean as \`true\`/\`false\`/\`1\`/\`0\`). An \`RPI_DEPLOY_…\` variable that names no
   setting stops the program;
4. command-line flags, where a command has one (listed per setting).

An unknown key or a bad value stops the program before it does anything, with one message that
names the key, the value and where it came from (exit code 2). \`rpi-deploy doctor\` checks the
configuration together with the host it runs on.

A YAML file names only what differs from the defaults, nested as the dotted paths below:

\`\`\`yaml
dataDir: /var/lib/rpi-deploy
device:
  listen: 192.168.151.1:5001
netboot:
  interface: eth1
  dhcp:
    range: { start: 192.168.151.100, end: 192.168.151.250 }
\`\`\`
`;

export function renderConfigReference(): string {
  const blocks = [HEADER];
  for (const [key, child] of Object.entries(properties(ConfigSchema as unknown as Node) ?? {})) {
    blocks.push(`## \`${key}\``);
    if (properties(child)) renderObject(child, [key], blocks);
    else blocks.push(renderFacts(child, [key]));
  }
  return `${blocks.map((b) => b.trimEnd()).join('\n\n')}\n`;
}

function renderObject(node: Node, path: string[], blocks: string[]): void {
  if (typeof node['description'] === 'string') blocks.push(sentence(node['description']));
  for (const [key, child] of Object.entries(properties(node) ?? {})) {
    const at = [...path, key];
    if (properties(child)) {
      blocks.push(`### \`${at.join('.')}\``);
      renderObject(child, at, blocks);
    } else {
      blocks.push(`#### \`${at.join('.')}\``, renderFacts(child, at));
    }
  }
}

function renderFacts(node: Node, path: string[]): string {
  const facts = [`type: ${typeOf(node)}`, `default: \`${JSON.stringify(node['default'])}\``];
  facts.push(`environment: ${envFor(node, path)}`);
  const flags = CONFIG_FLAGS[path.join('.')];
  if (flags) {
    const named = flags.map((f) => (f.command ? `\`${f.command} ${f.flag}\`` : `\`${f.flag}\` (every command)`));
    facts.push(`flag: ${named.join(', ')}`);
  }
  const description = typeof node['description'] === 'string' ? `\n\n${sentence(node['description'])}` : '';
  return `${facts.join(' · ')}${description}`;
}

function envFor(node: Node, path: string[]): string {
  const items = node['items'] as Node | undefined;
  // The loader splits a list variable on commas into strings; a list of objects cannot be written so.
  if (items && properties(items)) return 'none (in the file only)';
  return `\`${envName(path)}\``;
}

function typeOf(node: Node): string {
  const anyOf = node['anyOf'] as Node[] | undefined;
  if (anyOf) return anyOf.map(typeOf).join(' or ');
  if (Array.isArray(node['enum'])) return `one of ${(node['enum'] as string[]).map((v) => `\`${v}\``).join(', ')}`;
  switch (node['type']) {
    case 'null':
      return '`null`';
    case 'integer':
      return `integer${range(node)}`;
    case 'array': {
      const items = node['items'] as Node;
      const props = properties(items);
      const of = props ? `{ ${Object.keys(props).join(', ')} }` : typeOf(items);
      return `list of ${of}`;
    }
    case 'string':
      if (node['pattern'] === IPV4_PATTERN) return 'IPv4 address';
      if (typeof node['pattern'] === 'string' && node['pattern'].includes(':[0-9]{1,5}$')) return '`HOST:PORT`';
      return 'string';
    default:
      return String(node['type']);
  }
}

function range(node: Node): string {
  const min = node['minimum'] as number | undefined;
  const max = node['maximum'] as number | undefined;
  if (min !== undefined && max !== undefined) return ` ${min}–${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  return '';
}

function properties(node: Node): Record<string, Node> | undefined {
  return node['type'] === 'object' ? (node['properties'] as Record<string, Node> | undefined) : undefined;
}

/** Schema descriptions are phrases (they also end up in error messages); the page wants sentences. */
function sentence(text: string): string {
  const first = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?)]$/.test(first) ? first : `${first}.`;
}
