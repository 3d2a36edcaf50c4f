import { openForeignSqlite, type ForeignSqlite } from '../store/index.js';
import { FleetError } from './errors.js';

/**
 * The database of a seed installation (the Python/Flask system rpi-deploy replaces), read as it
 * is: its Phase 6 tables `venues`, `hostname_pool` and `deployment_history`, and Phase 7's
 * `deployment_batches`. Timestamps there are SQLite `CURRENT_TIMESTAMP` text (UTC) or Python
 * ISO strings; they come out as ISO 8601 UTC, or null when absent or unreadable.
 */
export interface SeedInstallation {
  venues: SeedVenue[];
  pool: SeedPoolName[];
  /** Empty for an installation from before Phase 7, which had no batches. */
  batches: SeedBatch[];
  history: SeedDeployment[];
}

export interface SeedVenue {
  code: string;
  name: string;
  location: string | null;
  contactEmail: string | null;
  createdAt: string | null;
}

export interface SeedPoolName {
  product: string;
  venue: string;
  /** The kart number as text (`001`), or for RXP2 the serial's last 8 characters. */
  identifier: string;
  status: string;
  mac: string | null;
  serial: string | null;
  assignedAt: string | null;
}

export interface SeedBatch {
  id: number;
  venue: string;
  product: string;
  totalCount: number;
  priority: number;
  status: string;
  createdAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
}

export interface SeedDeployment {
  id: number;
  hostname: string;
  mac: string | null;
  serial: string | null;
  ip: string | null;
  product: string | null;
  venue: string | null;
  status: string | null;
  startedAt: string | null;
  completedAt: string | null;
  error: string | null;
}

/** The columns each table must have; others (ids, notes, image versions) are not needed. */
const REQUIRED: Record<string, readonly string[]> = {
  venues: ['code', 'name', 'location', 'contact_email', 'created_at'],
  hostname_pool: [
    'product_type',
    'venue_code',
    'identifier',
    'status',
    'mac_address',
    'serial_number',
    'assigned_date',
  ],
  deployment_history: [
    'id',
    'hostname',
    'mac_address',
    'serial_number',
    'ip_address',
    'product_type',
    'venue_code',
    'deployment_status',
    'started_at',
    'completed_at',
    'error_message',
  ],
  deployment_batches: [
    'id',
    'venue_code',
    'product_type',
    'total_count',
    'priority',
    'status',
    'created_at',
    'started_at',
    'completed_at',
  ],
};
const OPTIONAL_TABLES = new Set(['deployment_batches']);

/** Opens the seed's `deployment.db` read-only and reads what an import brings over. */
export function readSeedInstallation(file: string): SeedInstallation {
  let db: ForeignSqlite;
  try {
    db = openForeignSqlite(file);
  } catch (err) {
    throw new FleetError(
      'FLEET_SEED_UNREADABLE',
      `Cannot open ${file} as a SQLite database: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  }
  try {
    const present = checkSchema(db, file);
    const rows = (query: string) => db.rows(query);
    return {
      venues: rows('SELECT code, name, location, contact_email, created_at FROM venues ORDER BY id').map((r) => ({
        code: text(r['code']) ?? '',
        name: text(r['name']) ?? '',
        location: text(r['location']),
        contactEmail: text(r['contact_email']),
        createdAt: timestamp(r['created_at']),
      })),
      pool: rows(
        'SELECT product_type, venue_code, identifier, status, mac_address, serial_number, assigned_date FROM hostname_pool ORDER BY id',
      ).map((r) => ({
        product: text(r['product_type']) ?? '',
        venue: text(r['venue_code']) ?? '',
        identifier: text(r['identifier']) ?? '',
        status: text(r['status']) ?? '',
        mac: text(r['mac_address']),
        serial: text(r['serial_number']),
        assignedAt: timestamp(r['assigned_date']),
      })),
      batches: present.has('deployment_batches')
        ? rows(
            'SELECT id, venue_code, product_type, total_count, priority, status, created_at, started_at, completed_at FROM deployment_batches ORDER BY id',
          ).map((r) => ({
            id: Number(r['id']),
            venue: text(r['venue_code']) ?? '',
            product: text(r['product_type']) ?? '',
            totalCount: Number(r['total_count'] ?? 0),
            priority: Number(r['priority'] ?? 0),
            status: text(r['status']) ?? '',
            createdAt: timestamp(r['created_at']),
            startedAt: timestamp(r['started_at']),
            completedAt: timestamp(r['completed_at']),
          }))
        : [],
      history: rows(
        'SELECT id, hostname, mac_address, serial_number, ip_address, product_type, venue_code, deployment_status, started_at, completed_at, error_message FROM deployment_history ORDER BY id',
      ).map((r) => ({
        id: Number(r['id']),
        hostname: text(r['hostname']) ?? '',
        mac: text(r['mac_address']),
        serial: text(r['serial_number']),
        ip: text(r['ip_address']),
        product: text(r['product_type']),
        venue: text(r['venue_code']),
        status: text(r['deployment_status']),
        startedAt: timestamp(r['started_at']),
        completedAt: timestamp(r['completed_at']),
        error: text(r['error_message']),
      })),
    };
  } finally {
    db.close();
  }
}

/** The seed tables present; a missing required table or column is an error that names it. */
function checkSchema(db: ForeignSqlite, file: string): Set<string> {
  const present = new Set<string>();
  for (const [table, columns] of Object.entries(REQUIRED)) {
    let have: Set<string>;
    try {
      have = db.columns(table);
    } catch (err) {
      throw new FleetError(
        'FLEET_SEED_UNREADABLE',
        `${file} is not a readable SQLite database: ${(err as Error).message}`,
        { file },
        { cause: err },
      );
    }
    if (have.size === 0) {
      if (OPTIONAL_TABLES.has(table)) continue;
      throw new FleetError(
        'FLEET_SEED_UNREADABLE',
        `${file} has no table ${table}: is it the seed's database/deployment.db?`,
        { file, table },
      );
    }
    const missing = columns.filter((c) => !have.has(c));
    if (missing.length > 0)
      throw new FleetError('FLEET_SEED_UNREADABLE', `${file}: table ${table} lacks column(s) ${missing.join(', ')}`, {
        file,
        table,
        missing,
      });
    present.add(table);
  }
  return present;
}

/** A seed column as text: SQLite hands over strings, numbers, bigints or blobs; anything else is no value. */
function text(v: unknown): string | null {
  const s =
    typeof v === 'string'
      ? v
      : typeof v === 'number' || typeof v === 'bigint'
        ? v.toString()
        : Buffer.isBuffer(v)
          ? v.toString('utf8')
          : '';
  return s.trim() === '' ? null : s.trim();
}

/** `2025-10-23 07:01:02` (SQLite, UTC) or `2025-10-23T07:01:02.123456` (Python, taken as UTC) → ISO 8601. */
function timestamp(v: unknown): string | null {
  const s = text(v);
  if (!s) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (!m) return null;
  const fraction = m[3] ? m[3].slice(0, 4) : '';
  const ms = Date.parse(`${m[1]}T${m[2]}${fraction}${m[4] ?? 'Z'}`);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
