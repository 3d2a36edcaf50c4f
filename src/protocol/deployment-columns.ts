import type { Deployment } from './fleet.js';

/**
 * The columns of a deployment table, the same in the CLI's table and CSV and the management API's
 * CSV export, so a spreadsheet made either way has the same header.
 */
export const DEPLOYMENT_COLUMNS: { title: string; value: (d: Deployment) => unknown }[] = [
  { title: 'id', value: (d) => d.id },
  { title: 'hostname', value: (d) => d.hostname },
  { title: 'serial', value: (d) => d.serial },
  { title: 'venue', value: (d) => d.venue },
  { title: 'product', value: (d) => d.product },
  { title: 'batch', value: (d) => d.batchId },
  { title: 'status', value: (d) => d.status },
  { title: 'enrolled', value: (d) => d.enrolledAt },
  { title: 'finished', value: (d) => d.finishedAt },
  { title: 'ip', value: (d) => d.ip },
  { title: 'error', value: (d) => d.error },
];
