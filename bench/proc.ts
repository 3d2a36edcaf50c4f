/** Process measurement helpers for the benchmarks: wall time and CPU of commands and of running servers. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const CLOCK_TICKS_PER_S = 100;

export interface Timed {
  wallS: number;
  cpuS: number;
  stdout: string;
}

/** Runs a command under GNU time: wall seconds and user+system CPU seconds of it and its children. */
export async function timed(cmd: string, args: string[]): Promise<Timed> {
  const { stdout, stderr } = await promisify(execFile)('/usr/bin/time', ['-f', 'TIMED %e %U %S', cmd, ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const m = /TIMED ([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  if (!m) throw new Error(`${cmd}: no timing in ${stderr.slice(-500)}`);
  return { wallS: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]), stdout };
}

/** CPU seconds (user + system) a running process and its threads have used so far. */
export function cpuSecondsOf(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS_PER_S;
}

/**
 * Seconds a process's main thread has run, and waited runnable for a processor (Linux schedstat):
 * the second tells a thread that was slow because its machine was busy from one that was busy itself.
 */
export function mainThreadSchedOf(pid: number): { runS: number; waitS: number } {
  const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
  return { runS: run! / 1e9, waitS: wait! / 1e9 };
}

export const GiB = 1024 ** 3;
export const fmt = (n: number, digits = 2) => n.toFixed(digits);

export interface Measured extends Timed {
  peakRssMiB: number;
}

/** Runs a command under GNU `time -v`: wall and CPU seconds and the peak resident set size. */
export async function measureVerbose(cmd: string[]): Promise<Measured> {
  const { stdout, stderr } = await promisify(execFile)('/usr/bin/time', ['-v', ...cmd], {
    maxBuffer: 64 * 1024 * 1024,
  }).catch((err: Error & { stderr?: string }) => {
    throw new Error(`${cmd.join(' ')} failed: ${err.stderr ?? err.message}`);
  });
  const field = (name: string) => new RegExp(`${name}: (.+)$`, 'm').exec(stderr)?.[1]?.trim() ?? '';
  const wall = field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)')
    .split(':')
    .reduce((s, part) => s * 60 + Number(part), 0);
  return {
    wallS: wall,
    cpuS: Number(field('User time \\(seconds\\)')) + Number(field('System time \\(seconds\\)')),
    peakRssMiB: Number(field('Maximum resident set size \\(kbytes\\)')) / 1024,
    stdout,
  };
}

/** A running process's peak resident set size so far (VmHWM), in MiB. */
export function peakRssMiBOf(pid: number): number {
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`process ${pid} reports no VmHWM`);
  return Number(kb) / 1024;
}
