import type { Generated } from 'kysely';

/**
 * Row shapes of every table, for the query builder. Timestamps are ISO 8601 UTC text and flags
 * are 0/1 integers, which both SQLite and PostgreSQL store without dialect tricks.
 */

export interface SchemaMigrationsTable {
  id: string;
  applied_at: string;
}

export interface VenuesTable {
  code: string;
  name: string;
  location: string | null;
  contact: string | null;
  created_at: string;
  updated_at: string;
}

export interface ProductsTable {
  code: string;
  name: string;
  hostname_pattern: string;
  builtin: number;
  created_at: string;
  /** 1: delta re-image allowed (the default), 0: always a full write. */
  delta_reimage: number;
  /** VerifyMode: 'full' or 'sample'. */
  verify_mode: string;
}

export interface PoolEntriesTable {
  id: Generated<number>;
  venue_code: string;
  product_code: string;
  number: number;
  hostname: string;
  status: string;
  serial: string | null;
  assigned_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface BatchesTable {
  id: Generated<number>;
  venue_code: string;
  product_code: string;
  name: string | null;
  expected_count: number;
  priority: number;
  status: string;
  created_at: string;
  activated_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

export interface DevicesTable {
  serial: string;
  serial8: string;
  macs: string;
  model: string | null;
  first_seen_at: string;
  last_seen_at: string;
  reimage_requested_at: string | null;
}

export interface AssignmentsTable {
  id: Generated<number>;
  serial: string;
  venue_code: string;
  product_code: string;
  hostname: string;
  pool_entry_id: number | null;
  batch_id: number | null;
  assigned_at: string;
  released_at: string | null;
  release_reason: string | null;
}

export interface DeploymentsTable {
  id: Generated<number>;
  serial: string;
  assignment_id: number;
  hostname: string;
  venue_code: string;
  product_code: string;
  batch_id: number | null;
  image_id: number | null;
  status: string;
  error: string | null;
  ip: string | null;
  mac: string | null;
  enrolled_at: string;
  downloading_at: string | null;
  writing_at: string | null;
  verifying_at: string | null;
  customizing_at: string | null;
  finished_at: string | null;
  updated_at: string;
  /** JSON ImagingSettings the plan carried; null before a plan (or before migration 009). */
  imaging: string | null;
  /** JSON WriteStats the agent reported with its result. */
  write_stats: string | null;
}

export interface HistoryTable {
  seq: Generated<number>;
  at: string;
  type: string;
  deployment_id: number | null;
  serial: string | null;
  data: string;
}

export interface ImagesTable {
  id: Generated<number>;
  product_code: string;
  version: string;
  sha256: string;
  size_bytes: number;
  chunk_count: number;
  stored_bytes: number;
  used_bytes: number;
  os_generation: string;
  /** Path of the manifest file relative to the image store root. */
  manifest_file: string;
  source_name: string;
  source_format: string;
  active: number;
  notes: string | null;
  created_at: string;
}

export interface DhcpLeasesTable {
  ip: string;
  client_key: string;
  mac: string;
  state: string;
  expires_at: string;
  serial8: string | null;
  hostname: string | null;
  updated_at: string;
}

export interface UsersTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  role: string;
  created_at: string;
  updated_at: string;
}

export interface SessionsTable {
  id_hash: string;
  user_id: number;
  created_at: string;
  last_seen_at: string;
  ip: string | null;
}

export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  secret_hash: string;
  role: string;
  created_by: number;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
}

export interface AuditTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: string;
  ip: string | null;
}

export interface DeploymentTokensTable {
  deployment_id: number;
  token_sha256: string;
  created_at: string;
}

export interface VerifiedChunksTable {
  serial: string;
  image_id: number;
  chunk_index: number;
  verified_at: string;
}

export interface FirstbootSettingsTable {
  scope: string;
  code: string;
  /** FirstBootSettings as JSON */
  settings: string;
  updated_at: string;
}

export interface BootTokensTable {
  token_sha256: string;
  serial8: string;
  issued_at: string;
  expires_at: string;
}

export interface CapturesTable {
  id: Generated<number>;
  serial: string;
  product_code: string;
  version: string;
  notes: string | null;
  /** JSON array of sanitise steps skipped. */
  keep: string;
  status: string;
  token_sha256: string | null;
  bytes_received: Generated<number>;
  bytes_total: number | null;
  image_id: number | null;
  error: string | null;
  /** JSON: what sanitising changed (the sanitiser's report), once assembled. */
  sanitise_report: string | null;
  created_at: string;
  updated_at: string;
}

export interface Tables {
  schema_migrations: SchemaMigrationsTable;
  venues: VenuesTable;
  products: ProductsTable;
  pool_entries: PoolEntriesTable;
  batches: BatchesTable;
  devices: DevicesTable;
  assignments: AssignmentsTable;
  deployments: DeploymentsTable;
  history: HistoryTable;
  images: ImagesTable;
  dhcp_leases: DhcpLeasesTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  audit: AuditTable;
  deployment_tokens: DeploymentTokensTable;
  verified_chunks: VerifiedChunksTable;
  firstboot_settings: FirstbootSettingsTable;
  boot_tokens: BootTokensTable;
  captures: CapturesTable;
}
