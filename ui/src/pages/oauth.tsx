/**
 * @module OAuth: the registered clients, one user's token families (an admin revokes them: the
 * refresh token and its live access tokens stop working), and the signing keys (an admin rotates).
 */
import { useContext, useState } from 'hono/jsx/dom'
import { call, enc, getJson, send } from '../api.ts'
import { ConfirmDialog } from '../components/dialog.tsx'
import { ErrorAlert, fieldError, TextField } from '../components/form.tsx'
import { Pager, usePages } from '../components/pager.tsx'
import { Table } from '../components/table.tsx'
import { Badge, formatTime, Loading } from '../components/status.tsx'
import { useData } from '../components/use-data.ts'
import { useAction } from '../components/use-form.ts'
import { RowAction } from '../components/row-action.tsx'
import { PageTitle } from '../router.tsx'
import { SessionContext, useCanWrite } from '../session.tsx'

interface Client {
  client_id: string
  client_name?: string
  redirect_uris: string[]
  token_endpoint_auth_method: string
  last_used_at: number | null
  expires_at: number | null
}
interface Family {
  family_id: string
  client_id: string
  username: string
  scopes: string[]
  resource: string
  created_at: string
  last_used_at: string
  expires_at: string
}
interface SigningKey {
  kid: string
  alg: string
  active: boolean
  created_at: string
  retired_at?: string
}

const epoch = (seconds: number | null) => (seconds === null ? null : seconds * 1000)

function Clients() {
  const clients = useData((signal) => getJson<Client[]>('/oauth/clients', signal))
  const pages = usePages(clients.data ?? [])
  return (
    <section aria-labelledby="clients-heading">
      <h2 id="clients-heading">Registered clients</h2>
      <ErrorAlert error={clients.error} />
      {!clients.data ? (
        !clients.error && <Loading what="clients" />
      ) : clients.data.length === 0 ? (
        <p class="muted">No client has registered.</p>
      ) : (
        <Table label="Registered clients" columns={['Client', 'Redirect URIs', 'Authentication', 'Last used']}>
          {pages.rows.map((client) => (
            <tr key={client.client_id}>
              <td>
                {client.client_name ?? <span class="muted">unnamed</span>}
                <div class="mono muted">{client.client_id}</div>
              </td>
              <td class="mono">{client.redirect_uris.join(' ')}</td>
              <td>{client.token_endpoint_auth_method}</td>
              <td>{client.last_used_at === null ? <span class="muted">never</span> : formatTime(epoch(client.last_used_at))}</td>
            </tr>
          ))}
        </Table>
      )}
      <Pager pages={pages} label="Client pages" />
    </section>
  )
}

function Families() {
  const canWrite = useCanWrite()
  const me = useContext(SessionContext).username
  const [draft, setDraft] = useState('')
  const [username, setUsername] = useState('')
  const [revoking, setRevoking] = useState<Family | null>(null)
  const [revoked, setRevoked] = useState<string | null>(null)
  const families = useData(async (signal) => (username ? getJson<Family[]>(`/oauth/tokens?username=${enc(username)}`, signal) : null), [username])
  const revocation = useAction(families.reload)
  const revoke = (family: Family) => {
    setRevoking(null)
    return revocation.run(async () => {
      await call('DELETE', `/oauth/tokens/${enc(family.family_id)}`)
      setRevoked(`Revoked the ${family.client_id} family of ${family.username}.`)
    })
  }
  return (
    <section aria-labelledby="families-heading">
      <h2 id="families-heading">Token families</h2>
      <form
        class="filters"
        aria-label="Find token families"
        onSubmit={(event: Event) => {
          event.preventDefault()
          setRevoked(null)
          setUsername(draft.trim())
        }}
      >
        <TextField filter label="GitHub login" name="username" value={draft} onInput={setDraft} error={fieldError(families.error, 'username')} />
        <button type="submit" class="primary">
          Show families
        </button>
      </form>
      {revoked && <p role="status">{revoked}</p>}
      <ErrorAlert error={revocation.failure} />
      {families.data && (
        families.data.length === 0 ? (
          <p role="status">{username} has no live token family.</p>
        ) : (
          <Table label={`Token families of ${username}`} columns={['Client', 'Scopes', 'Resource', 'Last used', 'Expires', canWrite && 'Actions']}>
            {families.data.map((family) => (
              <tr key={family.family_id} data-family={family.family_id}>
                <td class="mono">{family.client_id}</td>
                <td>{family.scopes.join(' ')}</td>
                <td class="mono">{family.resource}</td>
                <td>{formatTime(family.last_used_at)}</td>
                <td>{formatTime(family.expires_at)}</td>
                {canWrite && (
                  <td>
                    <RowAction label="Revoke" row={family.client_id} danger onClick={() => setRevoking(family)} />
                  </td>
                )}
              </tr>
            ))}
          </Table>
        )
      )}
      {revoking && (
        <ConfirmDialog title={`Revoke this token family of ${revoking.username}?`} confirmText="Revoke" onCancel={() => setRevoking(null)} onConfirm={() => revoke(revoking)}>
          <p>
            Its refresh token and its live access tokens stop working at once, on every node; {revoking.client_id} must sign in again.
            {revoking.username === me && ' If this is your own sign-in to this page, you will be signed out.'}
          </p>
        </ConfirmDialog>
      )}
    </section>
  )
}

function Keys() {
  const canWrite = useCanWrite()
  const keys = useData((signal) => getJson<SigningKey[]>('/oauth/keys', signal))
  const [confirming, setConfirming] = useState(false)
  const rotation = useAction(keys.reload)
  const rotate = () => (setConfirming(false), rotation.run(() => send('POST', '/oauth/keys/rotate')))
  return (
    <section aria-labelledby="keys-heading">
      <h2 id="keys-heading">Signing keys</h2>
      <ErrorAlert error={keys.error ?? rotation.failure} />
      {keys.data ? (
        <Table label="Signing keys" columns={['Key id', 'Algorithm', 'State', 'Created']}>
          {keys.data.map((key) => (
            <tr key={key.kid}>
              <td class="mono">{key.kid}</td>
              <td>{key.alg}</td>
              <td>{key.active ? <Badge text="signing" tone="ok" /> : <Badge text={`retired ${formatTime(key.retired_at)}`} tone="muted" />}</td>
              <td>{formatTime(key.created_at)}</td>
            </tr>
          ))}
        </Table>
      ) : (
        <Loading what="keys" />
      )}
      {canWrite && (
        <div class="actions">
          <button type="button" onClick={() => setConfirming(true)}>
            Rotate signing key
          </button>
        </div>
      )}
      {confirming && (
        <ConfirmDialog title="Sign with a new key?" confirmText="Rotate" onCancel={() => setConfirming(false)} onConfirm={rotate}>
          <p>New tokens are signed with a new key from now on. Tokens signed with the current one stay valid until they expire.</p>
        </ConfirmDialog>
      )}
    </section>
  )
}

export function OAuthPage() {
  const canWrite = useCanWrite()
  return (
    <>
      <PageTitle>OAuth</PageTitle>
      {canWrite ? (
        <>
          <Clients />
          <Families />
        </>
      ) : (
        <p>Clients and token families are for admins.</p>
      )}
      <Keys />
    </>
  )
}
