import Type from 'typebox';

/** Path parameters and small replies shared by the management routes. */
export const CodeParam = Type.Object({ code: Type.String({ minLength: 1, maxLength: 16 }) });
export const IdParam = Type.Object({ id: Type.Integer({ minimum: 1 }) });
export const HostnameParam = Type.Object({ hostname: Type.String({ minLength: 1, maxLength: 63 }) });
export const SerialParam = Type.Object({ serial: Type.String({ minLength: 1, maxLength: 32 }) });
export const UsernameParam = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) });
export const ForceQuery = Type.Object(
  { force: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);
export const NoContent = Type.Null({ description: 'no body' });
