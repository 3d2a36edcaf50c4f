import Type, { type Static } from 'typebox';

/** `GET /health` on both listeners; snake_case because the seed's monitoring read it that way. */
export const HealthReply = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  uptime_seconds: Type.Number(),
  database: Type.Object({
    ok: Type.Boolean(),
    schema_version: Type.Union([Type.String(), Type.Null()]),
    error: Type.Optional(Type.String()),
  }),
});
export type HealthReply = Static<typeof HealthReply>;
