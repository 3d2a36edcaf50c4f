import type { Config } from '../../config/index.js';
import type { Fleet } from '../../fleet/index.js';
import type { DoctorCheck, DoctorReport } from '../../protocol/doctor.js';
import { fail, overall, pass, warn } from './check.js';
import {
  activeBatches,
  checkBatchImages,
  checkImageFiles,
  checkNetbootFiles,
  checkPools,
  type FleetView,
} from './fleet-checks.js';
import { checkClock, checkDataDir, checkForeignDhcp, checkInterface, checkPorts } from './host-checks.js';

/** The database side the checks read; the caller opens it (the CLI) or already has it (serve). */
export interface DoctorData extends FleetView {
  fleet: FleetView['fleet'] & Pick<Fleet, 'records'>;
}

async function newestEventAt(records: Fleet['records']): Promise<string | null> {
  const seq = await records.lastSeq();
  return seq === 0 ? null : ((await records.history({ afterSeq: seq - 1, limit: 1 }))[0]?.at ?? null);
}

export interface DoctorOptions {
  /** Loads the configuration; a ConfigError becomes the "config" check's failure. */
  config: () => Readonly<Config>;
  /** Opens (or hands over) the database; when that fails the report ends with the data-dir failure. */
  data: (config: Readonly<Config>) => Promise<DoctorData & { close(): Promise<void> }>;
  /** Send a DISCOVER to find other DHCP servers (the serving server probes by itself instead). */
  probe: boolean;
  /** Called from the running server: the ports are its own. */
  serving: boolean;
  /**
   * How the fixes spell this installation's command: as the CLI that runs the checks was reached
   * (`rpi-deploy`, `npx rpi-deploy` or `node …/bin/rpi-deploy.js`), or plain `rpi-deploy` in the
   * server's report, which people read in the web UI, away from the server's shell.
   */
  cli: string;
  clock?: () => Date;
}

/**
 * The preflight a technician runs before plugging in boards (issue 13): every check, in the
 * order a problem should be fixed, each pass, warn or fail with what to do.
 */
export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const now = (o.clock ?? (() => new Date()))();
  const report = (checks: DoctorCheck[]): DoctorReport => ({
    status: overall(checks),
    ranAt: now.toISOString(),
    checks,
  });
  let config: Readonly<Config>;
  try {
    config = o.config();
  } catch (err) {
    return report([fail('config', (err as Error).message, 'correct the setting named, in the file or variable named')]);
  }
  const checks: DoctorCheck[] = [pass('config', 'the configuration is valid')];
  let data: Awaited<ReturnType<DoctorOptions['data']>>;
  try {
    data = await o.data(config);
  } catch (err) {
    checks.push(
      fail(
        'data-dir',
        `cannot open the database in ${config.dataDir}: ${(err as Error).message}`,
        `make ${config.dataDir} writable for the user rpi-deploy runs as`,
      ),
    );
    return report(checks);
  }
  try {
    const images = (await data.images.list()).filter((i) => i.active);
    const largestImageBytes = Math.max(0, ...images.map((i) => i.storedBytes));
    checks.push(
      await checkDataDir(config.dataDir, { lowBytes: config.management.diskLowMiB * 2 ** 20, largestImageBytes }),
    );
    const { check, lan } = checkInterface(config.netboot);
    checks.push(check);
    checks.push(
      o.serving ? pass('ports', 'ports 67/69 and both listeners are held by this server') : await checkPorts(config),
    );
    if (lan && o.serving)
      checks.push(pass('foreign-dhcp', 'the running server probed for other DHCP servers before serving'));
    else if (lan && o.probe) checks.push(await checkForeignDhcp(config.netboot, lan, o.cli));
    else if (lan)
      checks.push(
        warn(
          'foreign-dhcp',
          'not probed for other DHCP servers (--no-probe)',
          `run ${o.cli} doctor without --no-probe`,
        ),
      );
    const batches = await activeBatches(data);
    checks.push(
      await checkBatchImages(data, batches, o.cli),
      await checkImageFiles(data, o.cli),
      await checkPools(data, batches, o.cli),
    );
    checks.push(...(await checkNetbootFiles(data, { dataDir: config.dataDir, netboot: config.netboot, cli: o.cli })));
    checks.push(checkClock(now, await newestEventAt(data.fleet.records)));
  } finally {
    await data.close();
  }
  return report(checks);
}
