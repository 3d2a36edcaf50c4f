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
