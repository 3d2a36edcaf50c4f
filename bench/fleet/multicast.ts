/**
 * The fleet lab's `multicast` design (issue 16): what FOG does with udpcast. The server runs
 * `udp-sender` on the zstd-compressed image for a session of N receivers; each board runs
 * `udp-receiver | zstd -d | dd oflag=direct` to its card, then reads the card back and compares
 * its SHA-256 with the image's. The lab's switch (a Linux bridge) can model a venue switch's IGMP
 * snooping (`SwitchMode`). Multicast stays on the lab's bridge: the data group is in 239.0.0.0/8
 * (organisation-local), the TTL is 1, and both ends are pinned to their namespace's eth0. The
 * receivers find the sender at its unicast address, as FOG's do; the sender's announcements go
 * to 224.0.0.1 (all hosts on the link, which no router forwards and no switch snoops). A
 * rendezvous group of our own in 239/8 would be joined and left by the sender, and the switch's
 * querier answers a leave with queries that refresh every membership, which hides the failure the
 * snooping modes model.
 */
import { createHash } from 'node:crypto';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { BoardExit, FleetLab } from '../../test/helpers/fleet-lab.js';
import type { FleetImage } from './image.js';

/** The data group: 239.0.0.0/8 is administratively scoped, never routed off the site. */
export const MULTICAST_GROUP = '239.255.18.1';
/** udpcast's default; the sender and the receivers use it and the next port. */
const PORTBASE = 9000;
/** The same level as the chunk store's (CHUNK_ZSTD_LEVEL), so both designs send comparable bytes. */
const ZSTD_LEVEL = 3;

/**
 * What the switch does with multicast:
 * - `flood`: the Linux bridge as it comes (IGMP snooping on, no querier): with no querier seen it
 *   floods every group to every port, so multicast just works;
 * - `snoop-expire`: a venue switch with IGMP snooping and nobody asking: it learns the members
 *   from their joins, nothing refreshes them, they age out after the membership interval (260 s
 *   at full scale) and the switch then drops the group. The bridge models it with its own querier
 *   asking once and then not for an hour (a Linux bridge floods while it knows no querier at all,
 *   where such switches drop unregistered groups);
 * - `snoop-querier`: the same switch with a querier asking every 125 s (full scale), the fix
 *   multicast needs at a venue (the server or the switch acting as querier).
 */
export const SWITCH_MODES = ['flood', 'snoop-expire', 'snoop-querier'] as const;
export type SwitchMode = (typeof SWITCH_MODES)[number];

/** IGMP's defaults (RFC 2236/3376), in seconds at full scale. */
const IGMP = { queryS: 125, responseS: 10, membershipS: 260 };

/** `ip link set br type bridge` options for a mode; times shrink by the lab's time factor (in centiseconds). */
export function switchOptions(mode: SwitchMode, timeFactor: number): string[] {
  const cs = (fullS: number) => String(Math.max(1, Math.round((fullS / timeFactor) * 100)));
  if (mode === 'flood') return ['mcast_snooping', '1', 'mcast_querier', '0'];
  const common = ['mcast_snooping', '1', 'mcast_membership_interval', cs(IGMP.membershipS)];
  const response = ['mcast_query_response_interval', cs(IGMP.responseS)];
  if (mode === 'snoop-querier')
    return [
      ...common,
      ...response,
      'mcast_query_interval',
      cs(IGMP.queryS),
      // The startup queries' spacing (a quarter of the query interval) too: unscaled, the second
      // query would come after 31 s and the members, learned from their joins, age out before it.
      'mcast_startup_query_interval',
      cs(IGMP.queryS / 4),
      'mcast_querier',
      '1',
    ];
  // One startup query, then silence: an hour is longer than any lab run (values in centiseconds).
  return [
    ...common,
    ...response,
    'mcast_startup_query_count',
    '1',
    'mcast_query_interval',
    '360000',
    'mcast_querier',
    '1',
  ];
}

export interface CompressedImage {
  path: string;
  bytes: number;
  /** SHA-256 of the raw image: what a board's card must read back as. */
  sha256: string;
}

/**
 * The image as FOG stores it: one zstd stream of the raw image, made once next to it (the unused
 * blocks are zeros and compress to almost nothing, so the stream is about the chunk store's size).
 */
export function compressImage(image: FleetImage): CompressedImage {
  const path = `${image.path}.zst`;
  if (!existsSync(path) || statSync(path).mtimeMs < statSync(image.path).mtimeMs)
    execFileSync('zstd', [`-${ZSTD_LEVEL}`, '-q', '-f', '-T0', '-o', path, image.path]);
  const sha256 = createHash('sha256').update(readFileSync(image.path)).digest('hex');
  return { path, bytes: statSync(path).size, sha256 };
}

export interface SenderOutcome {
  code: number | null;
  /** udp-sender's own CPU (GNU time). */
  cpuS: number;
  /** Data bytes and retransmitted blocks from its last statistics line. */
  sentBytes: number;
  retransmits: number;
  /** The end of its output: why it stopped, if it failed. */
  tail: string;
}

export interface Sender {
  done: Promise<SenderOutcome>;
  child: ChildProcess;
}

/**
 * Starts udp-sender in the server namespace for `receivers` boards: it starts sending once all of
 * them have connected (or `maxWaitS` after the first did), at most at `bitrateBps` (the
 * server link's rate less its headroom), and exits when every receiver has the whole stream.
 */
export function startSender(
  lab: FleetLab,
  o: { file: string; receivers: number; bitrateBps: number; maxWaitS: number; startTimeoutS: number },
): Sender {
  const child = lab.spawnServer([
    '/usr/bin/time',
    '-f',
    'TIMED %e %U %S',
    'udp-sender',
    '--file',
    o.file,
    '--interface',
    'eth0',
    '--mcast-data-address',
    MULTICAST_GROUP,
    '--ttl',
    '1',
    '--portbase',
    String(PORTBASE),
    // Multicast even for one board (udpcast switches to unicast for a single receiver otherwise).
    '--nopointopoint',
    '--full-duplex',
    '--min-receivers',
    String(o.receivers),
    '--max-wait',
    String(o.maxWaitS),
    '--start-timeout',
    String(o.startTimeoutS),
    '--max-bitrate',
    `${Math.floor(o.bitrateBps * 8)}`,
    '--nokbd',
  ]);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<SenderOutcome>((resolve) =>
    child.on('close', (code) => {
      const timed = /TIMED [\d.]+ ([\d.]+) ([\d.]+)\s*$/.exec(output);
      // udp-sender's statistics lines: "bytes=  34 567 890 re-xmits=0001234 ..." (digits grouped by spaces).
      const stats = [...output.matchAll(/bytes=\s*([\d ]+?)\s+re-xmits=(\d+)/g)].pop();
      resolve({
        code,
        cpuS: timed ? Number(timed[1]) + Number(timed[2]) : NaN,
        sentBytes: stats ? Number(stats[1]!.replace(/ /g, '')) : 0,
        retransmits: stats ? Number(stats[2]) : 0,
        tail: output.replace(/\r/g, '\n').trim().split('\n').slice(-4).join(' | '),
      });
    }),
  );
  return { done, child };
}

/**
 * A board's part (bash): receive, decompress and write with O_DIRECT, then read the image's length
 * back (O_DIRECT, so from the card, not the page cache) and compare its SHA-256 with the image's.
 * `receiveTimeoutS` ends a receiver that hears nothing for that long (udpcast waits for ever by
 * default): the only way a board notices that the switch stopped passing the group.
 */
export function receiverScript(
  card: string,
  image: CompressedImage,
  imageBytes: number,
  o: { server: string; startTimeoutS: number; receiveTimeoutS: number },
): string {
  const receive = [
    `udp-receiver --nokbd --no-progress --interface eth0 --ttl 1 --mcast-rdv-address ${o.server}`,
    `--portbase ${PORTBASE} --start-timeout ${o.startTimeoutS} --receive-timeout ${o.receiveTimeoutS}`,
  ].join(' ');
  const write = `zstd -dcq | dd of=${card} bs=4M iflag=fullblock oflag=direct status=none`;
  const readBack = `dd if=${card} bs=4M count=${imageBytes} iflag=direct,count_bytes status=none | sha256sum`;
  return [
    `${receive} | ${write}`,
    'echo "written $(date +%s%N)"',
    `h=$(${readBack})`,
    `{ [ "\${h%% *}" = ${image.sha256} ] || { echo "read-back sha256 \${h%% *} is not the image's" >&2; exit 3; }; }`,
    'echo verified',
  ].join(' && ');
}

export interface BoardsOutcome {
  failures: string[];
  /** Seconds from the start when each board had its runtime bundle, and when it had written its card. */
  runtimeS: number[];
  writtenS: number[];
  /** Seconds each board took after its runtime bundle (receive, write, read back). */
  imagingS: number[];
}

/** What the boards' output says: each board prints "runtime <ns>", "written <ns>" and "verified". */
export function boardsOutcome(exits: BoardExit[], t0: number, wall0: number): BoardsOutcome {
  const out: BoardsOutcome = { failures: [], runtimeS: [], writtenS: [], imagingS: [] };
  const at = (e: BoardExit, what: string) => {
    const m = new RegExp(`^${what} (\\d+)$`, 'm').exec(e.stdout);
    return m ? Number(BigInt(m[1]!) / 1_000_000n - BigInt(wall0)) / 1000 : undefined;
  };
  for (const [i, e] of exits.entries()) {
    const runtime = at(e, 'runtime');
    const written = at(e, 'written');
    if (e.code !== 0 || runtime === undefined || written === undefined || !/^verified$/m.test(e.stdout)) {
      const why = e.stderr.replace(/\r/g, '\n').trim().split('\n').slice(-2).join(' | ');
      out.failures.push(`board ${i}: exit ${e.code}, ${why.slice(-300)}`);
      continue;
    }
    out.runtimeS.push(runtime);
    out.writtenS.push(written);
    out.imagingS.push((e.endMs - t0) / 1000 - runtime);
  }
  return out;
}
