import type { PoolImportLine, PoolImportResult } from '../../../src/protocol/fleet.js';
import { formatNumberList } from '../format.js';

/** Lines shown in the preview; a pasted file of thousands of lines shows its problems first. */
export const PREVIEW_MAX_LINES = 300;

type LineVerdict = 'new' | 'duplicate' | 'invalid' | 'mixed' | 'empty';

export function lineVerdict(line: PoolImportLine): LineVerdict {
  const kinds = [line.added.length > 0, line.duplicates.length > 0, line.errors.length > 0].filter(Boolean).length;
  if (kinds > 1) return 'mixed';
  if (line.errors.length > 0) return 'invalid';
  if (line.duplicates.length > 0) return 'duplicate';
  return line.added.length > 0 ? 'new' : 'empty';
}

function LineOutcome({ line }: { line: PoolImportLine }) {
  return (
    <ul className="preview-outcome">
      {line.added.length > 0 && <li className="text-ok">new: {formatNumberList(line.added)}</li>}
      {line.duplicates.length > 0 && (
        <li className="text-warn">
          duplicate (already in the pool or earlier in the input): {formatNumberList(line.duplicates)}
        </li>
      )}
      {line.errors.map((e) => (
        <li key={e} className="text-failed">
          invalid: {e}
        </li>
      ))}
    </ul>
  );
}

/**
 * What an import would do, line by line, before anything is written: new numbers, duplicates and
 * invalid lines each marked in words (not colour alone).
 */
export function PoolImportPreview({ result, committed = false }: { result: PoolImportResult; committed?: boolean }) {
  const problems = result.lines.filter((l) => l.duplicates.length > 0 || l.errors.length > 0);
  const ordered = [...problems, ...result.lines.filter((l) => !problems.includes(l) && lineVerdict(l) !== 'empty')];
  const shown = ordered.slice(0, PREVIEW_MAX_LINES);
  return (
    <section className="preview" aria-label={committed ? 'Import result' : 'Import preview'}>
      <p className="preview-summary">
        {committed ? 'Imported' : 'Would import'} <strong>{result.added}</strong> new number
        {result.added === 1 ? '' : 's'} for {result.product} at {result.venue}
        {result.duplicates > 0 && (
          <>
            {' · '}
            <span className="text-warn">
              {result.duplicates} duplicate{result.duplicates === 1 ? '' : 's'} skipped
            </span>
          </>
        )}
        {result.invalid > 0 && (
          <>
            {' · '}
            <span className="text-failed">
              {result.invalid} invalid entr{result.invalid === 1 ? 'y' : 'ies'}
            </span>
          </>
        )}
      </p>
      {shown.length > 0 && (
        <div className="table-wrap">
          <table className="table table-dense preview-lines">
            <caption className="sr-only">Line by line</caption>
            <thead>
              <tr>
                <th scope="col" className="num">
                  Line
                </th>
                <th scope="col">Input</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((l) => (
                <tr key={l.line} className={`preview-${lineVerdict(l)}`}>
                  <td className="num" data-label="Line">
                    {l.line}
                  </td>
                  <td data-label="Input">
                    <code>{l.text}</code>
                  </td>
                  <td data-label="Outcome">
                    <LineOutcome line={l} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {ordered.length > shown.length && (
        <p className="muted">…and {ordered.length - shown.length} more lines without problems.</p>
      )}
    </section>
  );
}
