import { useState } from 'react';
import { PASSWORD_MIN_LENGTH, PasswordChange } from '../../../src/protocol/management-api.js';
import { Field, FormAlert } from '../components/field.js';
import { KeyValues } from '../components/key-values.js';
import { PageHeader } from '../components/page-header.js';
import type { PageProps } from '../routes.js';
import { useApi, useRole } from '../state/session.js';
import { useToasts } from '../state/toasts.js';
import { useSubmit } from '../state/use-submit.js';

/** Who is signed in, and changing one's own password (any role). */
export function AccountPage(_: PageProps) {
  const api = useApi();
  const { username, role } = useRole();
  const { notify } = useToasts();
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const submit = useSubmit({
    schema: PasswordChange,
    codeToField: { AUTH_PASSWORD_WRONG: 'currentPassword', AUTH_PASSWORD_WEAK: 'newPassword' },
  });
  const value = { currentPassword, newPassword };
  return (
    <section className="page">
      <PageHeader title="Your account" />
      <section className="card">
        <KeyValues
          items={[
            ['Username', username],
            ['Role', role],
          ]}
        />
      </section>
      <section className="card" aria-labelledby="password-title">
        <h2 id="password-title">Change your password</h2>
        <form
          className="narrow-form"
          noValidate
          onSubmit={(e) =>
            void submit.handle(e, value, async () => {
              await api.auth.changePassword(value);
              setCurrent('');
              setNew('');
              notify('success', 'Password changed; your other sessions have ended');
            })
          }
        >
          <FormAlert message={submit.errors.form} />
          <Field label="Current password" name="currentPassword" error={submit.errors.fields['currentPassword']}>
            {(p) => (
              <input
                {...p}
                type="password"
                autoComplete="current-password"
                value={currentPassword}
                onChange={(e) => setCurrent(e.target.value)}
              />
            )}
          </Field>
          <Field
            label="New password"
            name="newPassword"
            error={submit.errors.fields['newPassword']}
            hint={`At least ${PASSWORD_MIN_LENGTH} characters, not containing your username`}
          >
            {(p) => (
              <input
                {...p}
                type="password"
                autoComplete="new-password"
                value={newPassword}
                onChange={(e) => setNew(e.target.value)}
              />
            )}
          </Field>
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={submit.busy}>
              Change password
            </button>
          </div>
        </form>
      </section>
    </section>
  );
}
