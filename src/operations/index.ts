export { OperationsError, type OperationsErrorCode } from './errors.js';
export { renderServiceUnit, SERVICE_CAPABILITIES, type ServiceUnitOptions } from './systemd-unit.js';
export {
  DEFAULT_SERVICE_PATHS,
  initialConfig,
  installService,
  uninstallService,
  SERVICE_NAME,
  type ServicePaths,
  type ServiceRun,
} from './service-install.js';
export { notifyReady } from './systemd-notify.js';
export { runDoctor, type DoctorData, type DoctorOptions } from './doctor/doctor.js';
export { createBackup, type BackupManifest, type BackupOptions } from './backup.js';
export { restoreBackup, type RestoreOptions, type RestoreResult } from './restore.js';
export { createMetrics, type Metrics, type ServedPath, type TftpEnd } from './metrics.js';
