/**
 * Identities of simulated boards: deterministic for a run number, and recognisable at a glance.
 * Serials start with 5140da7a ("SIM DATA") followed by the run and the board's index (so the
 * last 8 digits, which name RXP2 boards, differ between runs); MACs are locally administered
 * (02:…), a range no real network card is sold with.
 */
export const SIMULATED_SERIAL_PREFIX = '5140da7a';
export const MAX_RUN = 0xffff;
export const MAX_BOARDS = 0xffff;

export interface SimulatedIdentity {
  serial: string;
  macs: string[];
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

export function simulatedIdentity(run: number, index: number): SimulatedIdentity {
  if (!Number.isInteger(run) || run < 0 || run > MAX_RUN) throw new RangeError(`run must be 0–${MAX_RUN}`);
  if (!Number.isInteger(index) || index < 0 || index > MAX_BOARDS)
    throw new RangeError(`board index must be 0–${MAX_BOARDS}`);
  const r = hex4(run);
  const i = hex4(index);
  return {
    serial: `${SIMULATED_SERIAL_PREFIX}${r}${i}`,
    macs: [`02:51:${r.slice(0, 2)}:${r.slice(2)}:${i.slice(0, 2)}:${i.slice(2)}`],
  };
}

export function isSimulatedSerial(serial: string): boolean {
  return serial.toLowerCase().startsWith(SIMULATED_SERIAL_PREFIX) && serial.length === 16;
}
