import { useState, type FormEvent } from 'react';
import { PASSWORD_MIN_LENGTH, ROLES, type Role, type User } from '../../../src/protocol/management-api.js';
import type { FormErrors } from '../state/form-errors.js';
import { Field, FormAlert } from './field.js';
import { CancelSubmit } from './form-buttons.js';

export const USER_HINTS = { username: '2–32 characters: a–z, 0–9, . _ -' };
export const USER_CODE_FIELDS = {
  AUTH_USER_EXISTS: 'username',
  AUTH_USERNAME_INVALID: 'username',
  AUTH_PASSWORD_WEAK: 'password',
};

const ROLE_TEXT: Record<Role, string> = {
  admin: 'admin: everything, including users, tokens and the audit log',
  operator: 'operator: venues, pools, batches, images, re-image',
  viewer: 'viewer: read only',
};

export function RoleOptions() {
  return (
    <>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {ROLE_TEXT[r]}
        </option>
      ))}
    </>
  );
}

/** A new user (username, password, role) or a password reset for an existing one. */
export function UserForm({
  user,
  errors,
  busy,
  onSubmit,
  onCancel,
}: {
  user?: User;
  errors: FormErrors;
  busy: boolean;
  onSubmit: (event: FormEvent<HTMLFormElement>, value: { username: string; password: string; role: Role }) => void;
  onCancel: () => void;
}) {
  const [username, setUsername] = useState(user?.username ?? '');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>(user?.role ?? 'operator');
  return (
    <form noValidate onSubmit={(e) => onSubmit(e, { username: username.trim().toLowerCase(), password, role })}>
      <FormAlert message={errors.form} />
      {!user && (
        <Field label="Username" name="username" error={errors.fields['username']} hint={USER_HINTS.username}>
          {(p) => (
            <input
              {...p}
              autoComplete="off"
              autoCapitalize="none"
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          )}
        </Field>
      )}
      <Field
        label={user ? `New password for ${user.username}` : 'Password'}
        name="password"
        error={errors.fields['password']}
        hint={`At least ${PASSWORD_MIN_LENGTH} characters`}
      >
        {(p) => (
          <input
            {...p}
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        )}
      </Field>
      {!user && (
        <Field label="Role" name="role" error={errors.fields['role']}>
          {(p) => (
            <select {...p} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              <RoleOptions />
            </select>
          )}
        </Field>
      )}
      <CancelSubmit label={user ? 'Set password' : 'Create user'} busyLabel="Saving…" busy={busy} onCancel={onCancel} />
    </form>
  );
}
