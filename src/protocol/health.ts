import Type, { type Static } from 'typebox';

/**
 * `GET /health` on both listeners. `status` and `timestamp` are the seed's (its scripts grep the
 * answer for `healthy`); the rest is ours, snake_case to match.
 */
export const HealthReply = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('degraded')]),
  timestamp: Type.String({ description: 'ISO 8601' }),
  version: Type.String(),
  uptime_seconds: Type.Number(),
  database: Type.Object({
    ok: Type.Boolean(),
    schema_version: Type.Union([Type.String(), Type.Null()]),
    error: Type.Optional(Type.String()),
  }),
});
export type HealthReply = Static<typeof HealthReply>;
