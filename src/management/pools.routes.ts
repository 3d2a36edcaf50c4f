import Type from 'typebox';
import type { Fleet } from '../fleet/index.js';
import type { HttpServer } from '../lib/http-server.js';
import { PoolEntry, PoolImportResult, PoolRetireResult, PoolStats } from '../protocol/fleet.js';
import { PoolImportRequest, PoolQuery, PoolRetireRequest } from '../protocol/management-api.js';
import { CodeParam, ForceQuery, HostnameParam } from './route-schemas.js';

const Released = Type.Object({ hostname: Type.String(), releasedFrom: Type.Union([Type.String(), Type.Null()]) });

/** A venue's hostname pool: list, import (with a preview), release, retire, stats. */
export function registerPoolRoutes(app: HttpServer, { fleet }: { fleet: Fleet }): void {
  const tags = ['pools'];
  app.get(
    '/venues/:code/pool',
    {
      config: { access: 'viewer' },
      schema: { tags, params: CodeParam, querystring: PoolQuery, response: { 200: Type.Array(PoolEntry) } },
    },
    (req) => fleet.pools.list({ venue: req.params.code, product: req.query.product, status: req.query.status }),
  );
  app.post(
    '/venues/:code/pool/import',
    {
      config: { access: 'operator', audit: 'pool.import' },
      schema: { tags, params: CodeParam, body: PoolImportRequest, response: { 200: PoolImportResult } },
    },
    (req) =>
      fleet.pools.import({
        venue: req.params.code,
        text: req.body.text,
        dryRun: req.body.dryRun ?? false,
        force: req.body.force ?? false,
        ...(req.body.product && { product: req.body.product }),
      }),
  );
  app.post(
    '/venues/:code/pool/retire',
    {
      config: { access: 'operator', audit: 'pool.retire' },
      schema: { tags, params: CodeParam, body: PoolRetireRequest, response: { 200: PoolRetireResult } },
    },
    (req) => fleet.pools.retireMany(req.params.code, req.body.hostnames),
  );
  app.post(
    '/pool/:hostname/release',
    {
      config: { access: 'operator', audit: 'pool.release' },
      schema: { tags, params: HostnameParam, response: { 200: Released } },
    },
    (req) => fleet.pools.release(req.params.hostname),
  );
  app.post(
    '/pool/:hostname/retire',
    {
      config: { access: 'operator', audit: 'pool.retire' },
      schema: { tags, params: HostnameParam, querystring: ForceQuery, response: { 200: Released } },
    },
    (req) => fleet.pools.retire(req.params.hostname, { force: req.query.force ?? false }),
  );
  app.get(
    '/pool/stats',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        querystring: Type.Object(
          { venue: Type.Optional(Type.String({ maxLength: 16 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(PoolStats) },
      },
    },
    (req) => fleet.pools.stats(req.query.venue ? { venue: req.query.venue } : {}),
  );
}
