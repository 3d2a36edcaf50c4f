import { readPartitionTable } from '../lib/disk/partitions.js';
import type { ChangedChunks } from '../protocol/imaging.js';
import type { Manifest } from '../protocol/manifest.js';
import type { Card } from './card.js';
import { AgentError } from './errors.js';

/** Whether a delta re-image may read this card first, and if not, why (for the log and the deployment record). */
export type TableVerdict = { matches: true } | { matches: false; reason: string };

/**
 * Compares the card's partition table, read from the card itself, with the image's. They match
 * when both are the same kind (MBR or GPT) and list the same partitions: the same numbers, and
 * for each the same start, size and type. One difference is allowed: the card's last partition
 * may be larger than the image's, because Raspberry Pi OS grows its root partition to the end of
 * the card at first boot, so every board in service has one. The match only decides whether
 * reading first is worth it: every chunk is still compared by its hash, and chunk 0, which holds
 * the table, is always written.
 */
export async function compareTables(card: Card, cardBytes: number, manifest: Manifest): Promise<TableVerdict> {
  // Copied: readBack may hand out the same buffer on the next call.
  const onCard = await readPartitionTable({
    sizeBytes: cardBytes,
    read: async (offset, length) => Buffer.from(await card.readBack(offset, length)),
  });
  if (onCard.kind === 'none') return { matches: false, reason: 'the card has no partition table' };
  if (onCard.kind !== manifest.partitionTable)
    return { matches: false, reason: `the card's table is ${onCard.kind}, the image's ${manifest.partitionTable}` };
  const want = [...manifest.partitions].sort((a, b) => a.startBytes - b.startBytes);
  const have = [...onCard.entries].sort((a, b) => a.startBytes - b.startBytes);
  if (have.length !== want.length)
    return { matches: false, reason: `the card has ${have.length} partitions, the image ${want.length}` };
  for (const [i, w] of want.entries()) {
    const h = have[i]!;
    const last = i === want.length - 1;
    const sizeOk = h.sizeBytes === w.sizeBytes || (last && h.sizeBytes > w.sizeBytes);
    if (h.number !== w.number || h.startBytes !== w.startBytes || h.type !== w.type || !sizeOk) {
      return {
        matches: false,
        reason:
          `partition ${w.number} differs: the card has #${h.number} type ${h.type} at ${h.startBytes} ` +
          `(${h.sizeBytes} bytes), the image #${w.number} type ${w.type} at ${w.startBytes} (${w.sizeBytes} bytes)`,
      };
    }
  }
  return { matches: true };
}

/** The stop rule's numbers; see createReadFirstPolicy. */
export interface ReadFirstTuning {
  /** Chunks read in a row before the rule may stop reading. */
  minReads: number;
  /** The last this many reads make up the running match share. */
  window: number;
  /** Reading stops when fewer than this share of the window matched. */
  matchShareMin: number;
  /** While not reading, the first probe is this many chunks after the stop; each probe that misses doubles the gap. */
  probeEvery: number;
  /** The gap between probes grows to at most this many chunks. */
  probeEveryMax: number;
}

/**
 * Reading a chunk before writing it costs one read (S/R); a chunk that matches saves its write and
 * its read-back (S/W + S/R), one that differs costs the read on top. Reading pays when the share p
 * of matching chunks satisfies p·S/W > (1−p)·S/R, p > W/(W+R): 0.36 on an SD card (W ≈ 50, R ≈ 90
 * MB/s). Matching chunks also save their download, so the threshold sits a little below that.
 * The probe gap of at most 128 chunks keeps the probes of an image that matches nowhere at about
 * 1 in 128 of its chunks (0.8 %), and bounds what a missed return to matching chunks costs: at
 * most 127 chunks (508 MiB) written that reading would have kept.
 */
export const READ_FIRST_TUNING: ReadFirstTuning = {
  minReads: 8,
  window: 16,
  matchShareMin: 1 / 3,
  probeEvery: 16,
  probeEveryMax: 128,
};

export interface ReadFirstPolicy {
  /** Asked once per chunk, in card order: read chunk `index` from the card before fetching it? */
  readNext(index: number): boolean;
  /** What reading the chunk just asked about showed. */
  record(matched: boolean): void;
  /** Times reading first was stopped. */
  readonly stops: number;
}

/**
 * The server's hint (the chunks that differ from the image it last wrote to this board) as a test
 * of a chunk index. Ranges out of order or reversed are the server's fault, refused rather than guessed at.
 */
function hinted(changed: ChangedChunks): (index: number) => boolean {
  changed.forEach(([first, last], i) => {
    if (first > last || (i > 0 && first <= changed[i - 1]![1]))
      throw new AgentError(
        'AGENT_SERVER_REPLY_INVALID',
        `The plan's changed chunks are not ascending, disjoint ranges (range ${i}: ${first}–${last})`,
        { range: i },
      );
  });
  return (index) => {
    let lo = 0;
    let hi = changed.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [first, last] = changed[mid]!;
      if (index < first) hi = mid - 1;
      else if (index > last) lo = mid + 1;
      else return true;
    }
    return false;
  };
}

/**
 * The stop rule. Reading first goes on while at least `matchShareMin` of the last `window` chunks
 * read matched; after `minReads` reads in a row with fewer, it stops and the following chunks are
 * fetched and written straight, as in a full write. Changes cluster (a new package rewrites its
 * files in a few places), so while not reading, a chunk is still read now and then as a probe:
 * `probeEvery` chunks after the stop, then twice as far after each probe that misses, up to
 * `probeEveryMax` (by default 16, 32, 64, 128, 128 …). A probe that matches starts reading again,
 * and the next stop starts from `probeEvery` again. A long run of misses is evidence that the rest
 * differs too, so the probes thin out; with every chunk changed, the extra reads are `minReads`
 * chunks plus about 1 in `probeEveryMax`.
 *
 * With the server's hint (`changed`), the chunks it names are never read first: they differ from
 * the image the server last wrote here, so whatever the card holds they are written. They are left
 * out of the rule too, which runs over the other chunks as without a hint: those are each read and
 * compared, so a card changed since (in service, or swapped) is still found out, and a wrong hint
 * costs writes, never a chunk assumed right.
 */
export function createReadFirstPolicy(
  t: ReadFirstTuning = READ_FIRST_TUNING,
  changed?: ChangedChunks,
): ReadFirstPolicy {
  const isChanged = changed ? hinted(changed) : () => false;
  let reading = true;
  let readsInSpell = 0;
  let sinceProbe = 0;
  let probeGap = t.probeEvery;
  let stops = 0;
  const recent: boolean[] = [];
  return {
    get stops() {
      return stops;
    },
    readNext(index) {
      if (isChanged(index)) return false;
      if (reading) return true;
      sinceProbe++;
      if (sinceProbe < probeGap) return false;
      sinceProbe = 0;
      return true;
    },
    record(matched) {
      if (!reading) {
        if (!matched) {
          probeGap = Math.min(probeGap * 2, t.probeEveryMax);
          return;
        }
        reading = true;
        readsInSpell = 0;
        recent.length = 0;
      }
      readsInSpell++;
      recent.push(matched);
      if (recent.length > t.window) recent.shift();
      const share = recent.filter(Boolean).length / recent.length;
      if (readsInSpell >= t.minReads && share < t.matchShareMin) {
        reading = false;
        sinceProbe = 0;
        probeGap = t.probeEvery;
        stops++;
      }
    },
  };
}
