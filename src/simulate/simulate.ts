import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runAgent, type AgentLog, type AgentResult } from '../agent/index.js';
import { simulatedIdentity } from './identity.js';

export interface SimulationOptions {
  /** Device API base URL, e.g. http://127.0.0.1:5001. */
  server: string;
  boards: number;
  run: number;
  /** Where the stand-in cards are made (under the data directory). */
  dir: string;
  /** Size of each (sparse) stand-in card. */
  cardBytes: number;
  /** Cap on each board's write rate, like an SD card (bytes/s); none when undefined. */
  writeRateBytesPerSec?: number | undefined;
  venue?: string | undefined;
  product?: string | undefined;
  /** Keep the card files afterwards (to inspect them); by default each is removed when its board is done. */
  keepCards?: boolean;
  log?: (serial: string) => AgentLog;
  onDone?: (serial: string, result: AgentResult) => void;
  signal?: AbortSignal;
}

export interface SimulatedBoard {
  serial: string;
  card: string;
  result: AgentResult;
}

/**
 * Runs `boards` real agents at once in this process against a running server, each writing to
 * its own file standing in for a card. Everything a board does goes over the real device API,
 * so the dashboard cannot tell them from real boards, except by their serials and MACs.
 */
export async function simulateBoards(o: SimulationOptions): Promise<SimulatedBoard[]> {
  await mkdir(o.dir, { recursive: true });
  return Promise.all(
    Array.from({ length: o.boards }, async (_, index) => {
      const { serial, macs } = simulatedIdentity(o.run, index);
      const card = join(o.dir, `card-${serial}.img`);
      await createSparseFile(card, o.cardBytes);
      try {
        const result = await runAgent(
          {
            server: o.server,
            target: card,
            serial,
            macs,
            model: 'Raspberry Pi 5 Model B Rev 1.0 (simulated)',
            venue: o.venue,
            product: o.product,
            writeRateBytesPerSec: o.writeRateBytesPerSec,
            reboot: false,
            log: o.log?.(serial),
          },
          o.signal,
        );
        o.onDone?.(serial, result);
        return { serial, card, result };
      } finally {
        if (!o.keepCards) await rm(card, { force: true });
      }
    }),
  );
}

async function createSparseFile(path: string, sizeBytes: number): Promise<void> {
  const file = await open(path, 'w');
  try {
    await file.truncate(sizeBytes);
  } finally {
    await file.close();
  }
}
