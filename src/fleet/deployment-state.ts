import type { Deployment, DeploymentStatus, Device } from '../protocol/fleet.js';

/**
 * The deployment state machine: enrolled → downloading → writing → verifying → customizing →
 * success, and failed from anywhere. Phases may be skipped forward (a board that streams straight
 * to the card never reports `downloading`); a finished deployment never changes again.
 */

const RANK: Record<DeploymentStatus, number> = {
  enrolled: 0,
  downloading: 1,
  writing: 2,
  verifying: 3,
  customizing: 4,
  success: 5,
  failed: 5,
};

export const TERMINAL_STATUSES: readonly DeploymentStatus[] = ['success', 'failed'];

export type Transition =
  | { kind: 'advance' }
  /** Repeating the current phase: nothing to record. */
  | { kind: 'same' }
  /** A late report for an earlier phase (a retried request): ignored, not an error. */
  | { kind: 'stale' }
  /** The deployment already ended; the caller must say so. */
  | { kind: 'finished' };

export function transition(from: DeploymentStatus, to: DeploymentStatus): Transition {
  if (from === to) return { kind: 'same' };
  if (isTerminal(from)) return { kind: 'finished' };
  if (to === 'failed' || RANK[to] > RANK[from]) return { kind: 'advance' };
  return { kind: 'stale' };
}

export function isTerminal(status: DeploymentStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * Whether a board is done: its latest deployment succeeded and no operator asked for a re-image
 * since. Only an operator reopens such a board (`rpi-deploy device reimage`), never the board.
 */
export function isClosedAfterSuccess(
  device: Pick<Device, 'reimageRequestedAt'>,
  latest: Pick<Deployment, 'status' | 'finishedAt'> | undefined,
): boolean {
  if (latest?.status !== 'success') return false;
  return !(device.reimageRequestedAt && device.reimageRequestedAt >= (latest.finishedAt ?? ''));
}

/** The column that records when a deployment entered `status`. */
export function phaseColumn(
  status: DeploymentStatus,
): 'downloading_at' | 'writing_at' | 'verifying_at' | 'customizing_at' | 'finished_at' | 'enrolled_at' {
  switch (status) {
    case 'enrolled':
      return 'enrolled_at';
    case 'downloading':
      return 'downloading_at';
    case 'writing':
      return 'writing_at';
    case 'verifying':
      return 'verifying_at';
    case 'customizing':
      return 'customizing_at';
    case 'success':
    case 'failed':
      return 'finished_at';
  }
}
