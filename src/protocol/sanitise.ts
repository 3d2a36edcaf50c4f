import Type, { type Static } from 'typebox';
import { Image } from './images.js';

/**
 * The identity a card copied from a running golden board carries, one named step each (issue 14
 * "Sanitise"); `--keep STEP` skips one.
 */
export const SanitiseStep = Type.Enum(
  ['machine-id', 'ssh-host-keys', 'cloud-init', 'logs', 'shell-history', 'network-state', 'swap'] as const,
  { description: 'one part of a golden board identity that sanitising resets' },
);
export type SanitiseStep = Static<typeof SanitiseStep>;

/** Every step, in the order they run and are reported. */
export const SANITISE_STEPS: readonly SanitiseStep[] = [
  'machine-id',
  'ssh-host-keys',
  'cloud-init',
  'logs',
  'shell-history',
  'network-state',
  'swap',
];

/** What one step changed in the image's root filesystem; paths are inside that filesystem. */
export const SanitiseStepResult = Type.Object({
  step: SanitiseStep,
  kept: Type.Boolean({ description: 'skipped on request (--keep): this step changed nothing' }),
  removed: Type.Array(Type.String(), { description: 'files, links and directories deleted' }),
  emptied: Type.Array(Type.String(), { description: 'files cut to zero bytes, keeping their owner and mode' }),
  added: Type.Array(Type.String(), { description: 'files or links written, e.g. a unit that makes SSH host keys' }),
  skipped: Type.Array(Type.Object({ path: Type.String(), reason: Type.String() }), {
    description: 'what the step would have changed but left alone, and why (a symbolic link is never followed)',
  }),
  note: Type.Union([Type.String(), Type.Null()], { description: 'e.g. what makes new SSH host keys at first boot' }),
});
export type SanitiseStepResult = Static<typeof SanitiseStepResult>;

/** The result of sanitising one image, each step in SANITISE_STEPS order. */
export const SanitiseReport = Type.Object({
  partitionNumber: Type.Integer({ description: 'the ext4 root partition that was sanitised' }),
  steps: Type.Array(SanitiseStepResult),
});
export type SanitiseReport = Static<typeof SanitiseReport>;

/** The answer to an upload: the image record, and with `sanitise` asked for, what sanitising did. */
export const ImportedImage = Type.Object({
  ...Image.properties,
  sanitise: Type.Optional(SanitiseReport),
});
export type ImportedImage = Static<typeof ImportedImage>;
