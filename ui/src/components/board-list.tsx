import { memo } from 'react';
import {
  estimateSecondsLeft,
  formatDuration,
  formatEta,
  formatRate,
  percentOf,
  secondsBetween,
  UNKNOWN,
} from '../format.js';
import { boardSource, type Board, type BoardPhase } from '../state/fleet-view.js';
import { PhaseBadge } from './phase-badge.js';
import { ProgressBar } from './progress-bar.js';

/** Where each phase puts the bar when no byte counts have arrived: a board visibly moves along. */
const PHASE_PERCENT: Partial<Record<BoardPhase, number>> = {
  seen: 0,
  enrolled: 2,
  verifying: 95,
  customizing: 98,
  success: 100,
  failed: 100,
  refused: 100,
};

interface BoardBar {
  /** verified bytes in the measured phases, else where the phase puts the bar */
  percent: number | null;
  /** written bytes, verified or not, while they are counted */
  writtenPercent: number | null;
}

/**
 * Bytes while they are known (download, write, read-back verify), otherwise where the phase puts
 * the bar. The agent counts written bytes chunk by chunk and verified bytes a read-back batch at a
 * time, so the bar shows both: written, lighter, ahead of verified. Before the first bytes are
 * counted the bar is indeterminate: the board is working, how far is not known yet.
 */
function boardBar(b: Board): BoardBar {
  const measured = b.phase === 'downloading' || b.phase === 'writing' || b.phase === 'verifying';
  if (!measured) return { percent: PHASE_PERCENT[b.phase] ?? null, writtenPercent: null };
  const p = b.progress;
  if (!p || (p.writtenBytes === 0 && p.verifiedBytes === 0)) return { percent: null, writtenPercent: null };
  return { percent: percentOf(p.verifiedBytes, p.totalBytes), writtenPercent: percentOf(p.writtenBytes, p.totalBytes) };
}

const tone = (phase: BoardPhase) =>
  phase === 'success'
    ? 'success'
    : phase === 'failed' || phase === 'refused'
      ? 'failed'
      : phase === 'seen'
        ? 'idle'
        : 'active';
const isEnded = (phase: BoardPhase) => phase === 'success' || phase === 'failed' || phase === 'refused';

interface BoardRowProps {
  board: Board;
  /** the clock, for boards still running; undefined for finished ones so they do not re-render */
  nowMs: number | undefined;
  canReimage: boolean;
  onReimage: (board: Board) => void;
}

const BoardRow = memo(function BoardRow({ board: b, nowMs, canReimage, onReimage }: BoardRowProps) {
  const { percent, writtenPercent } = boardBar(b);
  const name = b.hostname ?? `board ${b.serial}`;
  // The agent's speed is of written bytes, so the time left is reckoned from them too.
  const rate = b.progress?.bytesPerSecond ?? null;
  const eta =
    b.progress?.etaSeconds ??
    estimateSecondsLeft(b.progress?.writtenBytes ?? null, b.progress?.totalBytes ?? null, rate);
  const running = !isEnded(b.phase) && b.phase !== 'seen';
  const source = running ? boardSource(b) : null;
  const shown = percent !== null && !isEnded(b.phase);
  const both = shown && writtenPercent !== null ? `${writtenPercent}% written, ${percent}% verified` : undefined;
  return (
    <li className={`board board-${b.phase}`} data-serial={b.serial} data-key={b.key}>
      <div className="board-name">
        <strong>{b.hostname ?? 'not named yet'}</strong>
        <span className="board-serial">{b.serial}</span>
      </div>
      <div className="board-ip">{b.ip ?? UNKNOWN}</div>
      <div className="board-phase">
        <PhaseBadge phase={b.phase} />
        {b.reimageRequested && <span className="board-note">re-image requested</span>}
        {source && (
          <span className="board-note board-source">
            {source.kind === 'server'
              ? 'from the server'
              : `from peers (${source.fromPeers}${source.of === null ? '' : ` of ${source.of}`} chunks)`}
          </span>
        )}
      </div>
      <div className="board-progress">
        <ProgressBar
          percent={percent}
          partPercent={writtenPercent}
          valueText={both}
          tone={tone(b.phase)}
          label={`${name}: ${b.phase}${shown ? ` ${both ?? `${percent}%`}` : ''}`}
        />
        {both !== undefined ? (
          <span className="board-percent board-percent-both">
            <span>{writtenPercent}% written</span>
            <span className="board-verified">{percent}% verified</span>
          </span>
        ) : (
          <span className="board-percent">{shown ? `${percent}%` : ''}</span>
        )}
      </div>
      <dl className="board-figures">
        <div>
          <dt>Speed</dt>
          <dd>{running ? formatRate(rate) : UNKNOWN}</dd>
        </div>
        <div>
          <dt>ETA</dt>
          <dd>{running ? formatEta(eta) : UNKNOWN}</dd>
        </div>
        <div>
          <dt>Elapsed</dt>
          <dd>{formatDuration(secondsBetween(b.startedAt, b.finishedAt, nowMs ?? Date.parse(b.updatedAt)))}</dd>
        </div>
      </dl>
      {(b.phase === 'failed' || b.phase === 'refused') && (
        <div className="board-failure">
          <p className="board-error">{b.error ?? 'No reason was reported'}</p>
          {canReimage && b.phase === 'failed' && !b.reimageRequested && (
            <button type="button" className="btn btn-small" onClick={() => onReimage(b)}>
              Re-image {b.hostname ?? b.serial}
            </button>
          )}
        </div>
      )}
    </li>
  );
});

/** The live fleet: a row per board on a laptop, a tile per board on a phone. */
export function BoardList({
  boards,
  nowMs,
  canReimage,
  onReimage,
}: {
  boards: readonly Board[];
  nowMs: number;
  canReimage: boolean;
  onReimage: (board: Board) => void;
}) {
  return (
    <ul className="boards" aria-label="Boards">
      <li className="board board-head" aria-hidden="true">
        <div>Board</div>
        <div>IP</div>
        <div>Phase</div>
        <div>Progress</div>
        <div className="board-figures-head">
          <span>Speed</span>
          <span>ETA</span>
          <span>Elapsed</span>
        </div>
      </li>
      {boards.map((b) => (
        <BoardRow
          key={b.key}
          board={b}
          nowMs={isEnded(b.phase) ? undefined : nowMs}
          canReimage={canReimage}
          onReimage={onReimage}
        />
      ))}
    </ul>
  );
}
