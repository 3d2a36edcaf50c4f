import Type from 'typebox';
import type { Fleet } from '../fleet/index.js';
import { toCsv } from '../lib/csv.js';
import type { HttpServer } from '../lib/http-server.js';
import { DEPLOYMENT_COLUMNS } from '../protocol/deployment-columns.js';
import { Deployment, HistoryEntry, type DeploymentFilter } from '../protocol/fleet.js';
import { DeploymentPage, DeploymentQuery } from '../protocol/management-api.js';
import { IdParam } from './route-schemas.js';

/** What a CSV export holds at most: a long season at a big venue, not an unbounded dump. */
const CSV_MAX_ROWS = 100_000;

/** Deployment history: filtered pages as JSON, or every match as a CSV download. */
export function registerDeploymentRoutes(app: HttpServer, { fleet }: { fleet: Fleet }): void {
  const tags = ['deployments'];
  app.get(
    '/deployments',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        description: 'JSON pages; with ?format=csv or Accept: text/csv, every match (up to 100000 rows) as a CSV file',
        querystring: DeploymentQuery,
        response: { 200: Type.Union([DeploymentPage, Type.String({ description: 'CSV (text/csv)' })]) },
        produces: ['application/json', 'text/csv'],
      },
    },
    async (req, reply) => {
      const { format, limit = 100, offset = 0, ...filter } = req.query;
      const where: DeploymentFilter = Object.fromEntries(
        Object.entries(filter).filter(([, v]) => v !== undefined && v !== ''),
      );
      if (format === 'csv' || (format === undefined && /\btext\/csv\b/.test(req.headers.accept ?? ''))) {
        const rows = await fleet.records.deployments({ ...where, limit: CSV_MAX_ROWS, offset: 0 });
        const name = `deployments-${new Date().toISOString().slice(0, 10)}.csv`;
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${name}"`)
          .send(toCsv(rows, DEPLOYMENT_COLUMNS));
      }
      const rows = await fleet.records.deployments({ ...where, limit: limit + 1, offset });
      return { items: rows.slice(0, limit), offset, limit, hasMore: rows.length > limit };
    },
  );
  app.get(
    '/deployments/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        params: IdParam,
        response: { 200: Type.Object({ deployment: Deployment, history: Type.Array(HistoryEntry) }) },
      },
    },
    (req) => fleet.records.deployment(req.params.id),
  );
}
