import { useState } from 'react';
import { LoginRequest } from '../../../src/protocol/management-api.js';
import { Field, FormAlert } from '../components/field.js';
import { Submit } from '../components/form-buttons.js';
import { useSession } from '../state/session.js';
import { useSubmit } from '../state/use-submit.js';

export function LoginPage({ expired }: { expired: boolean }) {
  const { login } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { errors, busy, handle } = useSubmit({ schema: LoginRequest });
  const value = { username: username.trim(), password };
  return (
    <main id="main" className="centered">
      <form
        className="card narrow"
        onSubmit={(e) => void handle(e, value, () => login(value.username, value.password))}
        noValidate
      >
        <h1>Log in to rpi-deploy</h1>
        {expired && (
          <p className="alert alert-info" role="status">
            Your session has ended; log in again to continue.
          </p>
        )}
        <FormAlert message={errors.form} />
        <Field label="Username" name="username" error={errors.fields['username']}>
          {(p) => (
            <input
              {...p}
              autoComplete="username"
              autoCapitalize="none"
              autoFocus
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          )}
        </Field>
        <Field label="Password" name="password" error={errors.fields['password']}>
          {(p) => (
            <input
              {...p}
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <Submit label="Log in" busyLabel="Logging in…" busy={busy} />
        <p className="muted small">
          First time on this server? An administrator creates accounts (<code>rpi-deploy user add</code>), or use{' '}
          <a href="/setup">first-time setup</a> with the setup token the server printed when it first started.
        </p>
      </form>
    </main>
  );
}
