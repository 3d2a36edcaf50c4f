import { useState } from 'react';
import { ApiTokenInput, type ApiToken, type ApiTokenCreated, type Role } from '../../../src/protocol/management-api.js';
import { EmptyState } from '../components/empty-state.js';
import { Field, FormAlert } from '../components/field.js';
import { Loaded } from '../components/load-state.js';
import { ConfirmDialog, Modal } from '../components/modal.js';
import { PageHeader } from '../components/page-header.js';
import { Table } from '../components/table.js';
import { RoleOptions } from '../components/user-form.js';
import { formatDateTime } from '../format.js';
import type { PageProps } from '../routes.js';
import { useApi } from '../state/session.js';
import { useToasts } from '../state/toasts.js';
import { useResource } from '../state/use-resource.js';
import { useSubmit } from '../state/use-submit.js';

/** API tokens for scripts and automation (admins only); the secret is shown once. */
export function TokensPage(_: PageProps) {
  const api = useApi();
  const { notify } = useToasts();
  const tokens = useResource((signal) => api.tokens.list(signal), [api]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [busy, setBusy] = useState(false);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [days, setDays] = useState('');
  const submit = useSubmit({ schema: ApiTokenInput });
  const value = { name: name.trim(), role, ...(days.trim() && { expiresInDays: Number(days) }) };
  const close = () => {
    setCreating(false);
    setCreated(null);
    setName('');
    setDays('');
    submit.clear();
  };

  async function revoke() {
    if (!revoking) return;
    setBusy(true);
    try {
      await api.tokens.revoke(revoking.id);
      notify('success', `Token ${revoking.name} revoked`);
      tokens.reload();
    } catch (err) {
      notify('error', err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
      setRevoking(null);
    }
  }

  return (
    <section className="page">
      <PageHeader
        title="API tokens"
        subtitle="For scripts: send as Authorization: Bearer <token>"
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            New token
          </button>
        }
      />
      <Loaded resource={tokens}>
        {(list) =>
          list.length === 0 ? (
            <EmptyState title="No API tokens">
              <p>Create one for each script or system that talks to rpi-deploy, with the smallest role it needs.</p>
            </EmptyState>
          ) : (
            <Table<ApiToken>
              caption="API tokens"
              rows={list}
              rowKey={(t) => t.id}
              rowClass={(t) => (t.revokedAt ? 'row-muted' : undefined)}
              columns={[
                { header: 'Name', cell: (t) => t.name },
                { header: 'Role', cell: (t) => t.role },
                { header: 'Created', cell: (t) => `${formatDateTime(t.createdAt)} by ${t.createdBy}`, optional: true },
                { header: 'Last used', cell: (t) => (t.lastUsedAt ? formatDateTime(t.lastUsedAt) : 'never') },
                {
                  header: 'Expires',
                  cell: (t) => (t.expiresAt ? formatDateTime(t.expiresAt) : 'never'),
                  optional: true,
                },
                {
                  header: 'Actions',
                  kind: 'actions',
                  cell: (t) =>
                    t.revokedAt ? (
                      `revoked ${formatDateTime(t.revokedAt)}`
                    ) : (
                      <button
                        type="button"
                        className="btn btn-small btn-danger-outline"
                        aria-label={`Revoke token ${t.name}`}
                        onClick={() => setRevoking(t)}
                      >
                        Revoke
                      </button>
                    ),
                },
              ]}
            />
          )
        }
      </Loaded>
      <Modal open={creating} title={created ? 'Token created' : 'New API token'} onClose={close}>
        {created ? (
          <div>
            <p className="alert alert-warning">
              Copy this token now: it is shown only once. rpi-deploy keeps only its hash.
            </p>
            <p>
              <code className="secret" tabIndex={0}>
                {created.secret}
              </code>
            </p>
            <div className="form-actions">
              <button
                type="button"
                className="btn"
                onClick={() =>
                  void navigator.clipboard?.writeText(created.secret).then(
                    () => notify('info', 'Token copied'),
                    () => notify('error', 'The browser refused to copy; select the token and copy it by hand'),
                  )
                }
              >
                Copy
              </button>
              <button type="button" className="btn btn-primary" onClick={close}>
                Done
              </button>
            </div>
          </div>
        ) : (
          <form
            noValidate
            onSubmit={(e) =>
              void submit.handle(e, value, async () => {
                setCreated(await api.tokens.create(value));
                tokens.reload();
              })
            }
          >
            <FormAlert message={submit.errors.form} />
            <Field
              label="Name"
              name="name"
              error={submit.errors.fields['name']}
              hint="What uses it, e.g. nightly-export"
            >
              {(p) => <input {...p} value={name} autoComplete="off" onChange={(e) => setName(e.target.value)} />}
            </Field>
            <Field label="Role" name="role" error={submit.errors.fields['role']}>
              {(p) => (
                <select {...p} value={role} onChange={(e) => setRole(e.target.value as Role)}>
                  <RoleOptions />
                </select>
              )}
            </Field>
            <Field
              label="Expires after (days, optional)"
              name="expiresInDays"
              error={submit.errors.fields['expiresInDays']}
              hint="Leave empty for a token that lasts until revoked"
            >
              {(p) => <input {...p} inputMode="numeric" value={days} onChange={(e) => setDays(e.target.value)} />}
            </Field>
            <div className="form-actions">
              <button type="button" className="btn" onClick={close}>
                Cancel
              </button>
              <button type="submit" className="btn btn-primary" disabled={submit.busy}>
                Create token
              </button>
            </div>
          </form>
        )}
      </Modal>
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke token ${revoking?.name ?? ''}?`}
        confirmLabel="Revoke"
        busy={busy}
        onConfirm={() => void revoke()}
        onCancel={() => setRevoking(null)}
      >
        <p>Anything using this token is refused from now on. This cannot be undone.</p>
      </ConfirmDialog>
    </section>
  );
}
