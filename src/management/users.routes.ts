import Type from 'typebox';
import type { HttpServer } from '../lib/http-server.js';
import {
  ApiToken,
  ApiTokenCreated,
  ApiTokenInput,
  AuditEntry,
  AuditQuery,
  User,
  UserInput,
  UserPatch,
} from '../protocol/management-api.js';
import type { AuditLog } from './audit.service.js';
import type { TokenService } from './auth/tokens.service.js';
import type { UserService } from './auth/users.service.js';
import { IdParam, NoContent, UsernameParam } from './route-schemas.js';

/** Admin only: users, API tokens and the audit log. */
export function registerUserRoutes(
  app: HttpServer,
  deps: { users: UserService; tokens: TokenService; audit: AuditLog },
): void {
  const { users, tokens, audit } = deps;
  const admin = { access: 'admin' } as const;

  app.get('/users', { config: admin, schema: { tags: ['users'], response: { 200: Type.Array(User) } } }, () =>
    users.list(),
  );
  app.post(
    '/users',
    {
      config: { ...admin, audit: 'user.create' },
      schema: { tags: ['users'], body: UserInput, response: { 201: User } },
    },
    async (req, reply) => reply.code(201).send(await users.create(req.body)),
  );
  app.patch(
    '/users/:username',
    {
      config: { ...admin, audit: 'user.update' },
      schema: { tags: ['users'], params: UsernameParam, body: UserPatch, response: { 200: User } },
    },
    (req) => users.update(req.params.username, req.body, req.principal?.sessionHash),
  );
  app.delete(
    '/users/:username',
    {
      config: { ...admin, audit: 'user.delete' },
      schema: { tags: ['users'], params: UsernameParam, response: { 204: NoContent } },
    },
    async (req, reply) => {
      await users.remove(req.params.username);
      return reply.code(204).send(null);
    },
  );

  app.get('/tokens', { config: admin, schema: { tags: ['tokens'], response: { 200: Type.Array(ApiToken) } } }, () =>
    tokens.list(),
  );
  app.post(
    '/tokens',
    {
      config: { ...admin, audit: 'token.create' },
      schema: { tags: ['tokens'], body: ApiTokenInput, response: { 201: ApiTokenCreated } },
    },
    async (req, reply) => reply.code(201).send(await tokens.create(req.body, req.principal!)),
  );
  app.delete(
    '/tokens/:id',
    {
      config: { ...admin, audit: 'token.revoke' },
      schema: { tags: ['tokens'], params: IdParam, response: { 200: ApiToken } },
    },
    (req) => tokens.revoke(req.params.id),
  );

  app.get(
    '/audit',
    { config: admin, schema: { tags: ['audit'], querystring: AuditQuery, response: { 200: Type.Array(AuditEntry) } } },
    (req) => audit.list(req.query),
  );
}
