import { useState } from 'react';
import { ROLES, UserInput, UserPatch, type Role, type User } from '../../../src/protocol/management-api.js';
import { Loaded } from '../components/load-state.js';
import { ConfirmDialog, Modal } from '../components/modal.js';
import { PageHeader } from '../components/page-header.js';
import { Table } from '../components/table.js';
import { USER_CODE_FIELDS, USER_HINTS, UserForm } from '../components/user-form.js';
import { formatDateTime } from '../format.js';
import type { PageProps } from '../routes.js';
import { useApi, useRole } from '../state/session.js';
import { useToasts } from '../state/toasts.js';
import { useResource } from '../state/use-resource.js';
import { useSubmit } from '../state/use-submit.js';

/** Accounts and their roles (admins only). */
export function UsersPage(_: PageProps) {
  const api = useApi();
  const { username: me } = useRole();
  const { notify } = useToasts();
  const users = useResource((signal) => api.users.list(signal), [api]);
  const [form, setForm] = useState<{ user?: User } | null>(null);
  const [removing, setRemoving] = useState<User | null>(null);
  const [busy, setBusy] = useState(false);
  const create = useSubmit({ schema: UserInput, hints: USER_HINTS, codeToField: USER_CODE_FIELDS });
  const reset = useSubmit({ schema: UserPatch, codeToField: USER_CODE_FIELDS });
  const submit = form?.user ? reset : create;
  const close = () => (setForm(null), create.clear(), reset.clear());

  async function run(action: () => Promise<unknown>, done: string) {
    setBusy(true);
    try {
      await action();
      notify('success', done);
      users.reload();
    } catch (err) {
      notify('error', err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
      setRemoving(null);
    }
  }

  return (
    <section className="page">
      <PageHeader
        title="Users"
        subtitle="Who may log in, and what they may do"
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setForm({})}>
            New user
          </button>
        }
      />
      <Loaded resource={users}>
        {(list) => (
          <Table<User>
            caption="Users"
            rows={list}
            rowKey={(u) => u.username}
            columns={[
              {
                header: 'Username',
                cell: (u) => (u.username === me ? <strong>{u.username} (you)</strong> : u.username),
              },
              {
                header: 'Role',
                cell: (u) => (
                  <select
                    aria-label={`Role of ${u.username}`}
                    value={u.role}
                    disabled={busy}
                    onChange={(e) =>
                      void run(
                        () => api.users.update(u.username, { role: e.target.value as Role }),
                        `${u.username} is now ${e.target.value}`,
                      )
                    }
                  >
                    {ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                ),
              },
              { header: 'Created', cell: (u) => formatDateTime(u.createdAt), optional: true },
              {
                header: 'Actions',
                kind: 'actions',
                cell: (u) => (
                  <div className="row-actions">
                    <button
                      type="button"
                      className="btn btn-small"
                      aria-label={`Set password for ${u.username}`}
                      onClick={() => setForm({ user: u })}
                    >
                      Set password
                    </button>
                    <button
                      type="button"
                      className="btn btn-small btn-danger-outline"
                      aria-label={`Delete user ${u.username}`}
                      disabled={u.username === me}
                      onClick={() => setRemoving(u)}
                    >
                      Delete
                    </button>
                  </div>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      <Modal open={form !== null} title={form?.user ? `Password of ${form.user.username}` : 'New user'} onClose={close}>
        <UserForm
          {...(form?.user && { user: form.user })}
          errors={submit.errors}
          busy={submit.busy}
          onCancel={close}
          onSubmit={(e, value) => {
            const user = form?.user;
            if (user) {
              void reset.handle(e, { password: value.password }, async () => {
                await api.users.update(user.username, { password: value.password });
                notify('success', `Password of ${user.username} changed`);
                close();
              });
            } else {
              void create.handle(e, value, async () => {
                await api.users.create(value);
                notify('success', `User ${value.username} created (${value.role})`);
                close();
                users.reload();
              });
            }
          }}
        />
      </Modal>
      <ConfirmDialog
        open={removing !== null}
        title={`Delete user ${removing?.username ?? ''}?`}
        confirmLabel="Delete user"
        busy={busy}
        onConfirm={() =>
          removing && void run(() => api.users.remove(removing.username), `User ${removing.username} deleted`)
        }
        onCancel={() => setRemoving(null)}
      >
        <p>They are logged out everywhere and can no longer log in. The audit log keeps their name.</p>
      </ConfirmDialog>
    </section>
  );
}
