import { useState } from 'react';
import { PASSWORD_MIN_LENGTH, SetupRequest } from '../../../src/protocol/management-api.js';
import { Field, FormAlert } from '../components/field.js';
import { Submit } from '../components/form-buttons.js';
import { useSession } from '../state/session.js';
import { useToasts } from '../state/toasts.js';
import { useSubmit } from '../state/use-submit.js';

const HINTS = { username: '2–32 characters: a–z, 0–9, . _ -' };

/** First start: the one-time setup token (printed in the server log) creates the first admin. */
export function SetupPage() {
  const { setup } = useSession();
  const { notify } = useToasts();
  const [setupToken, setToken] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const { errors, busy, handle } = useSubmit({
    schema: SetupRequest,
    hints: HINTS,
    codeToField: {
      AUTH_SETUP_TOKEN_INVALID: 'setupToken',
      AUTH_PASSWORD_WEAK: 'password',
      AUTH_USERNAME_INVALID: 'username',
    },
  });
  const value = { setupToken: setupToken.trim(), username: username.trim().toLowerCase(), password };
  const mismatch = confirm !== '' && confirm !== password ? 'The two passwords differ' : undefined;
  return (
    <main id="main" className="centered">
      <form
        className="card narrow"
        noValidate
        onSubmit={(e) =>
          void handle(e, value, async () => {
            if (confirm !== password) throw new Error('The two passwords differ; type the same password twice');
            await setup(value.setupToken, value.username, value.password);
            notify('success', `Administrator ${value.username} created; you are logged in`);
          })
        }
      >
        <h1>First-time setup</h1>
        <p>
          Create the first administrator. The setup token is printed in the server log the first time `rpi-deploy serve`
          starts; it works once.
        </p>
        <FormAlert message={errors.form} />
        <Field label="Setup token" name="setupToken" error={errors.fields['setupToken']}>
          {(p) => (
            <input
              {...p}
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
              value={setupToken}
              onChange={(e) => setToken(e.target.value)}
            />
          )}
        </Field>
        <Field label="Administrator username" name="username" error={errors.fields['username']} hint={HINTS.username}>
          {(p) => (
            <input
              {...p}
              autoComplete="username"
              autoCapitalize="none"
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          )}
        </Field>
        <Field
          label="Password"
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
        <Field label="Password again" name="confirm" error={mismatch}>
          {(p) => (
            <input
              {...p}
              type="password"
              autoComplete="new-password"
              value={confirm}
              onChange={(e) => setConfirm(e.target.value)}
            />
          )}
        </Field>
        <Submit label="Create administrator" busyLabel="Creating…" busy={busy} />
      </form>
    </main>
  );
}
