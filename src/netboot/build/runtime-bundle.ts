import { join } from 'node:path';
import { AGENT_PATH } from './stage1.js';
import { writeTar, type TarEntry } from './tar.js';

/**
 * The runtime bundle stage 1 downloads and unpacks over its root: Node.js for linux-arm64, the
 * glibc/libstdc++ it is linked against (Debian arm64, where the dynamic loader looks for them)
 * and the one-file agent. Unpacked at `/`, `/usr/bin/node` finds its loader at
 * `/lib/ld-linux-aarch64.so.1`, the path baked into the binary.
 */
export interface RuntimeInputs {
  /** The stripped arm64 node binary. */
  node: string;
  /** Root of the unpacked Debian packages, and the libraries (name → path inside it) node needs. */
  libsRoot: string;
  libs: ReadonlyMap<string, string>;
  /** The agent bundle (`dist/rpi-deploy-agent.mjs`). */
  agent: string;
}

const LIB_DIR = 'lib/aarch64-linux-gnu';
const LOADER = 'ld-linux-aarch64.so.1';

export function writeRuntimeBundle(
  file: string,
  inputs: RuntimeInputs,
): Promise<{ sizeBytes: number; sha256: string }> {
  const libs = [...inputs.libs].sort(([a], [b]) => a.localeCompare(b));
  const entries: TarEntry[] = [
    { path: 'lib', type: 'dir' },
    { path: LIB_DIR, type: 'dir' },
    ...libs.map(([name, path]): TarEntry => ({
      path: `${LIB_DIR}/${name}`,
      type: 'file',
      source: join(inputs.libsRoot, path),
      mode: 0o755,
    })),
    { path: `lib/${LOADER}`, type: 'symlink', target: `aarch64-linux-gnu/${LOADER}` },
    { path: 'usr', type: 'dir' },
    { path: 'usr/bin', type: 'dir' },
    { path: 'usr/bin/node', type: 'file', source: inputs.node, mode: 0o755 },
    { path: 'opt', type: 'dir' },
    { path: 'opt/rpi-deploy', type: 'dir' },
    { path: AGENT_PATH, type: 'file', source: inputs.agent, mode: 0o644 },
  ];
  return writeTar(file, entries);
}
