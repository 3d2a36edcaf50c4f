import type { BoardPhase } from '../state/fleet-view.js';

export const PHASE_LABEL: Record<BoardPhase, string> = {
  seen: 'seen',
  enrolled: 'enrolled',
  downloading: 'downloading',
  writing: 'writing',
  verifying: 'verifying',
  customizing: 'customizing',
  success: 'success',
  failed: 'failed',
  refused: 'refused',
};

/** A phase as a coloured word (the word carries the meaning; colour only helps). */
export function PhaseBadge({ phase }: { phase: BoardPhase }) {
  return <span className={`badge badge-${phase}`}>{PHASE_LABEL[phase]}</span>;
}
