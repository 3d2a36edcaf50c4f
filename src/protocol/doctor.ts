import Type, { type Static } from 'typebox';

/** What `rpi-deploy doctor` found; the same report at start, on GET /api/v1/system/doctor and in `doctor --json`. */
export const CheckStatus = Type.Union([Type.Literal('pass'), Type.Literal('warn'), Type.Literal('fail')]);
export type CheckStatus = Static<typeof CheckStatus>;

export const DoctorCheck = Type.Object({
  id: Type.String({ description: 'stable name of the check, e.g. "interface"' }),
  status: CheckStatus,
  summary: Type.String({ description: 'what was found' }),
  fix: Type.Optional(Type.String({ description: 'what to do about a warning or failure' })),
});
export type DoctorCheck = Static<typeof DoctorCheck>;

export const DoctorReport = Type.Object({
  status: CheckStatus,
  ranAt: Type.String({ format: 'date-time' }),
  checks: Type.Array(DoctorCheck),
});
export type DoctorReport = Static<typeof DoctorReport>;
