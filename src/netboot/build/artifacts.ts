import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';

/**
 * What `rpi-deploy netboot build` leaves in `<dataDir>/netboot/`: the stage-1 initramfs, the
 * runtime bundle and `build.json` describing both. Serving reads them from there; nothing else
 * writes there.
 */

const Artifact = Type.Object({
  /** File name inside the netboot directory. */
  file: Type.String({ pattern: '^[A-Za-z0-9._-]+$' }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  sizeBytes: Type.Integer({ minimum: 0 }),
});

export const BuildManifest = Type.Object({
  format: Type.Literal(1),
  builtAt: Type.String(),
  /** What went in, so a later build can tell whether anything changed. */
  inputs: Type.Record(Type.String(), Type.String()),
  stage1: Artifact,
  runtime: Artifact,
});
export type BuildManifest = Static<typeof BuildManifest>;

export const MANIFEST_FILE = 'build.json';

export function netbootDir(dataDir: string): string {
  return join(dataDir, 'netboot');
}

/** The last build's manifest; undefined when nothing was built (or the manifest is unreadable). */
export async function readBuildManifest(dataDir: string): Promise<BuildManifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(netbootDir(dataDir), MANIFEST_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return Value.Check(BuildManifest, parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
