import { createApp, openCore, type App, type AppOptions, type Core } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { tempDir } from './temp-dir.js';

export interface TestServer {
  app: App;
  /** Base URL of the device API, e.g. http://127.0.0.1:41234 */
  device: string;
  management: string;
  /** Printed at start while no user exists. */
  setupToken: string | undefined;
  dataDir: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra configuration, by dotted key (`'management.session.idleMinutes': 5`). */
  flags?: Record<string, unknown>;
  clock?: () => Date;
  liveLimits?: AppOptions['liveLimits'];
}

/** The real server on loopback with ephemeral ports and a fresh SQLite database. */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const dir = tempDir();
  const config = loadConfig({
    flags: {
      dataDir: dir.path,
      'device.listen': '127.0.0.1:0',
      'management.listen': '127.0.0.1:0',
      'log.level': 'silent',
      ...options.flags,
    },
  });
  const app = await createApp(config, createLogger('silent'), {
    ...(options.clock && { clock: options.clock }),
    ...(options.liveLimits && { liveLimits: options.liveLimits }),
  });
  const { device, management, setupToken } = await app.start();
  return {
    app,
    device,
    management,
    setupToken,
    dataDir: dir.path,
    async stop() {
      await app.stop();
      dir.remove();
    },
  };
}

/** Store and domain components on a fresh database, without listeners. */
export async function openTestCore(): Promise<Core & { dataDir: string; dispose(): Promise<void> }> {
  const dir = tempDir();
  const config = loadConfig({ flags: { dataDir: dir.path, 'log.level': 'silent' } });
  const core = await openCore(config, createLogger('silent'));
  return {
    ...core,
    dataDir: dir.path,
    async dispose() {
      await core.close();
      dir.remove();
    },
  };
}
