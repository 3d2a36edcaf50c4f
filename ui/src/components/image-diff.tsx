import { useState } from 'react';
import type { ImageDiff } from '../../../src/protocol/image-diff.js';
import type { Image } from '../../../src/protocol/images.js';
import { formatBytes } from '../format.js';
import { useApi } from '../state/session.js';
import { useResource } from '../state/use-resource.js';
import { KeyValues } from './key-values.js';
import { Loaded } from './load-state.js';

/** "Compare with": how `image` differs from another version of its product (GET /images/:id/diff). */
export function ImageDiffPanel({ image, others }: { image: Image; others: Image[] }) {
  const api = useApi();
  const [fromId, setFromId] = useState<number | null>(others[0]?.id ?? null);
  if (others.length === 0) return <p>No other {image.product} image to compare with.</p>;
  return (
    <div className="image-diff">
      <label className="field">
        <span>Compare with</span>
        <select value={fromId ?? ''} onChange={(e) => setFromId(Number(e.target.value))}>
          {others.map((o) => (
            <option key={o.id} value={o.id}>
              {o.product} {o.version}
            </option>
          ))}
        </select>
      </label>
      {fromId !== null && <DiffResult key={fromId} imageId={image.id} fromId={fromId} load={api.images.diff} />}
    </div>
  );
}

function DiffResult(props: {
  imageId: number;
  fromId: number;
  load: (id: number, from: number, signal?: AbortSignal) => Promise<ImageDiff>;
}) {
  const { imageId, fromId, load } = props;
  const diff = useResource((signal) => load(imageId, fromId, signal), [imageId, fromId, load]);
  return (
    <Loaded resource={diff}>
      {(d) => (
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
      )}
    </Loaded>
  );
}
