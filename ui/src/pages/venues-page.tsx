import { useState } from 'react';
import { VenueInput, type Venue } from '../../../src/protocol/fleet.js';
import { EmptyState } from '../components/empty-state.js';
import { Loaded } from '../components/load-state.js';
import { Modal } from '../components/modal.js';
import { PageHeader } from '../components/page-header.js';
import { Table } from '../components/table.js';
import { VENUE_CODE_FIELDS, VENUE_HINTS, VenueForm } from '../components/venue-form.js';
import { formatDateTime } from '../format.js';
import { Link, useRouter } from '../router.js';
import type { PageProps } from '../routes.js';
import { useApi, useRole } from '../state/session.js';
import { useToasts } from '../state/toasts.js';
import { useResource } from '../state/use-resource.js';
import { useSubmit } from '../state/use-submit.js';

/** All venues; the first step of a deployment day is making sure the venue is here. */
export function VenuesPage(_: PageProps) {
  const api = useApi();
  const { canOperate } = useRole();
  const { notify } = useToasts();
  const { navigate } = useRouter();
  const venues = useResource((signal) => api.venues.list(signal), [api]);
  const [creating, setCreating] = useState(false);
  const submit = useSubmit({ schema: VenueInput, hints: VENUE_HINTS, codeToField: VENUE_CODE_FIELDS });

  const newButton = canOperate && (
    <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
      New venue
    </button>
  );

  return (
    <section className="page">
      <PageHeader title="Venues" subtitle="Where boards go; each venue has its own hostname pool" actions={newButton} />
      <Loaded resource={venues}>
        {(list) =>
          list.length === 0 ? (
            <EmptyState title="No venues yet" action={newButton}>
              <p>Create the venue you are deploying to (a 4-character code like CORO), then import its kart numbers.</p>
            </EmptyState>
          ) : (
            <Table<Venue>
              caption="Venues"
              rows={list}
              rowKey={(v) => v.code}
              columns={[
                { header: 'Code', cell: (v) => <Link to={`/venues/${v.code}`}>{v.code}</Link> },
                { header: 'Name', cell: (v) => v.name },
                { header: 'Location', cell: (v) => v.location ?? '', optional: true },
                { header: 'Contact', cell: (v) => v.contact ?? '', optional: true },
                { header: 'Created', cell: (v) => formatDateTime(v.createdAt), optional: true },
              ]}
            />
          )
        }
      </Loaded>
      <Modal open={creating} title="New venue" onClose={() => (setCreating(false), submit.clear())}>
        <VenueForm
          errors={submit.errors}
          busy={submit.busy}
          onCancel={() => (setCreating(false), submit.clear())}
          onSubmit={(e, value) =>
            void submit.handle(e, value, async () => {
              const venue = await api.venues.create(value);
              notify('success', `Venue ${venue.code} created; now import its hostname pool`);
              setCreating(false);
              navigate(`/venues/${venue.code}`);
            })
          }
        />
      </Modal>
    </section>
  );
}
