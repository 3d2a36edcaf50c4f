import type { ImageDiff } from '../../../src/protocol/image-diff.js';
import type { Image } from '../../../src/protocol/images.js';
import { formatBytes } from '../format.js';
import type { Resource } from '../state/use-resource.js';
import { KeyValues } from './key-values.js';
import { Loaded } from './load-state.js';

/** "Compare with": how an image differs from another version of its product (GET /images/:id/diff). */
export function ImageDiffPanel(props: {
  others: Image[];
  fromId: number | null;
  onSelect: (fromId: number) => void;
  diff: Resource<ImageDiff | null>;
}) {
  const { others, fromId, onSelect, diff } = props;
  if (others.length === 0) return <p>No other version of this product to compare with.</p>;
  return (
    <div className="image-diff">
      <label className="field">
        <span>Compare with</span>
        <select value={fromId ?? ''} onChange={(e) => onSelect(Number(e.target.value))}>
          {others.map((o) => (
            <option key={o.id} value={o.id}>
              {o.product} {o.version}
            </option>
          ))}
        </select>
      </label>
      <Loaded resource={diff}>{(d) => d && <DiffResult diff={d} />}</Loaded>
    </div>
  );
}

function DiffResult({ diff: d }: { diff: ImageDiff }) {
  return (
    <>
      <KeyValues
        items={[
          ['Chunks that differ', `${d.differingChunks} of ${d.chunks} (${formatBytes(d.differingBytes)})`],
          ['Of them used', `${d.differingUsedChunks} (${formatBytes(d.differingUsedBytes)} a board writes)`],
        ]}
      />
      {d.partitions.map((p) => (
        <section key={p.number} aria-label={`Changed files in partition ${p.number}`}>
          <h3>
            Partition {p.number} ({p.filesystem}): {p.files.length} changed files and directories
          </h3>
          <ul className="file-list">
            {p.files.map((f) => (
              <li key={f}>
                <code>{f}</code>
              </li>
            ))}
          </ul>
          {p.filesTruncated && <p className="muted">… and more; the list stops there.</p>}
        </section>
      ))}
    </>
  );
}
