import { BOARD_PHASES, type BoardPhase } from '../state/fleet-view.js';
import { PHASE_LABEL } from './phase-badge.js';

/** Boards per phase; pressing a count shows only those boards (pressing it again shows all). */
export function PhaseCounts({
  counts,
  selected,
  onSelect,
}: {
  counts: Record<BoardPhase, number>;
  selected: BoardPhase | null;
  onSelect: (phase: BoardPhase | null) => void;
}) {
  const total = BOARD_PHASES.reduce((sum, p) => sum + counts[p], 0);
  return (
    <div className="counts" role="group" aria-label="Boards per phase">
      <button type="button" className="count" aria-pressed={selected === null} onClick={() => onSelect(null)}>
        <span className="count-n">{total}</span> all
      </button>
      {BOARD_PHASES.filter((p) => counts[p] > 0 || p === 'success' || p === 'failed').map((p) => (
        <button
          key={p}
          type="button"
          className={`count count-${p}`}
          aria-pressed={selected === p}
          onClick={() => onSelect(selected === p ? null : p)}
        >
          <span className="count-n">{counts[p]}</span> {PHASE_LABEL[p]}
        </button>
      ))}
    </div>
  );
}
