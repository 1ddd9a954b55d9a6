/**
 * @module Certificates: status, domains, expiry and which proxies serve each; an admin orders, renews
 * and deletes them. An order's progress is followed live with the API's long poll
 * (GET /certificates/{name}/status?wait=N), which answers as soon as the status settles.
 */
import { useEffect, useState } from 'hono/jsx/dom'
import { call, enc, getJson, send } from '../api.ts'
import { ConfirmDialog } from '../components/dialog.tsx'
import { Pager, usePages } from '../components/pager.tsx'
import { Table } from '../components/table.tsx'
import { CheckField, ErrorAlert, fieldError, isFieldFailure, listOf, TextField } from '../components/form.tsx'
import { Badge, daysUntil, formatTime, Loading } from '../components/status.tsx'
import { useData } from '../components/use-data.ts'
import { useAction, useForm } from '../components/use-form.ts'
import { RowAction } from '../components/row-action.tsx'
import { PageTitle } from '../router.tsx'
import { useCanWrite } from '../session.tsx'
import type { Certificate } from '../types.ts'

/** Each long poll holds at most this long, so the page shows validating while an order takes longer. */
const WAIT_SEC = 10

interface Status {
  status: Certificate['status']
  error: string | null
  not_after: string | null
}

/** Follows one order until it is issued or failed, saying where it is (a live region). */
function OrderProgress(props: { name: string; onSettled: () => void }) {
  const [status, setStatus] = useState<Status | null>(null)
  const [failure, setFailure] = useState<unknown>(null)
  useEffect(() => {
    const controller = new AbortController()
    void (async () => {
      try {
        for (;;) {
          const next = await getJson<Status>(`/certificates/${enc(props.name)}/status?wait=${WAIT_SEC}`, controller.signal)
          setStatus(next)
          if (next.status === 'issued' || next.status === 'failed') return props.onSettled()
        }
      } catch (error) {
        if ((error as Error).name !== 'AbortError') setFailure(error)
      }
    })()
    return () => controller.abort()
  }, [props.name])
  return (
    <div class="notice" role="status" aria-live="polite" data-testid={`progress-${props.name}`}>
      <strong>{props.name}</strong>:{' '}
      {status === null ? 'ordering…' : status.status === 'issued' ? `issued, valid until ${formatTime(status.not_after)}` : status.status === 'failed' ? `failed: ${status.error ?? 'no reason given'}` : `${status.status}…`}
      <ErrorAlert error={failure} />
    </div>
  )
}

function OrderCertificate(props: { onOrdered: (name: string) => void }) {
  const form = useForm<{ domains: string; cert_name: string; email: string; staging: boolean }>({ domains: '', cert_name: '', email: '', staging: false })
  const { values, failure } = form
  const order = async (event: Event) => {
    event.preventDefault()
    let name = ''
    const ordered = await form.submit(async (current) => {
      const created = await send<Certificate>('POST', '/certificates', {
        domains: listOf(current.domains) ?? [],
        ...(current.cert_name.trim() ? { cert_name: current.cert_name.trim() } : {}),
        ...(current.email.trim() ? { email: current.email.trim() } : {}),
        staging: current.staging,
      })
      name = created.cert_name
    })
    if (ordered) {
      form.reset({ domains: '', cert_name: '', email: '', staging: false })
      props.onOrdered(name)
    }
  }
  return (
    <form onSubmit={order} aria-label="Order a certificate" noValidate>
      <h2>Order a certificate</h2>
      {!isFieldFailure(failure, ['domains', 'cert_name', 'email', 'staging']) && <ErrorAlert error={failure} />}
      <TextField label="Domains" name="domains" value={values.domains} onInput={form.set('domains')} error={fieldError(failure, 'domains')} hint="comma-separated; validated over HTTP-01 on port 80, so each must reach this server" required />
      <TextField label="Name" name="cert_name" value={values.cert_name} onInput={form.set('cert_name')} error={fieldError(failure, 'cert_name')} hint="empty: the first domain" />
      <TextField label="Account email" name="email" value={values.email} onInput={form.set('email')} error={fieldError(failure, 'email')} hint="empty: ACME_EMAIL" type="email" />
      <CheckField label="From the staging directory" name="staging" checked={values.staging} onChange={form.set('staging')} />
      <div class="actions">
        <button type="submit" class="primary" disabled={form.busy}>
          Order certificate
        </button>
      </div>
    </form>
  )
}

function Expiry(props: { certificate: Certificate }) {
  const days = daysUntil(props.certificate.not_after)
  if (days === null) return <span class="muted">—</span>
  return (
    <span>
      {formatTime(props.certificate.not_after)} {days < 0 ? <Badge text="expired" tone="bad" /> : days < 30 ? <Badge text={`${days} days left`} tone="warn" /> : null}
    </span>
  )
}

export function CertificatesPage() {
  const canWrite = useCanWrite()
  const certificates = useData((signal) => getJson<Certificate[]>('/certificates', signal))
  const [following, setFollowing] = useState<string[]>([])
  const [deleting, setDeleting] = useState<string | null>(null)
  const action = useAction(certificates.reload)
  const pages = usePages(certificates.data ?? [])
  const follow = (name: string) => {
    setFollowing((names) => [...names.filter((other) => other !== name), name])
    certificates.reload()
  }
  return (
    <>
      <PageTitle>Certificates</PageTitle>
      <ErrorAlert error={certificates.error ?? action.failure} />
      {following.map((name) => (
        <OrderProgress key={name} name={name} onSettled={certificates.reload} />
      ))}
      {certificates.data === undefined ? (
        <Loading what="certificates" />
      ) : certificates.data.length === 0 ? (
        <p class="muted">No ACME certificates yet: proxies are served with self-signed certificates until one is issued.</p>
      ) : (
        <Table label="Certificates" columns={['Name', 'Domains', 'Status', 'Expires', 'Served for', canWrite && 'Actions']}>
          {pages.rows.map((certificate) => (
            <tr key={certificate.cert_name} data-cert={certificate.cert_name}>
              <td>
                {certificate.cert_name} {certificate.staging && <Badge text="staging" tone="muted" />}
              </td>
              <td>{certificate.domains.join(', ')}</td>
              <td>
                <Badge text={certificate.status} />
                {certificate.error && <div class="error-text">{certificate.error}</div>}
              </td>
              <td>
                <Expiry certificate={certificate} />
              </td>
              <td>{certificate.used_by.join(', ') || <span class="muted">no proxy</span>}</td>
              {canWrite && (
                <td>
                  <span class="actions">
                    <RowAction label="Renew" row={certificate.cert_name} onClick={() => action.run(async () => (await send('POST', `/certificates/${enc(certificate.cert_name)}/renew`), follow(certificate.cert_name)))} />
                    <RowAction label="Delete" row={certificate.cert_name} danger onClick={() => setDeleting(certificate.cert_name)} />
                  </span>
                </td>
              )}
            </tr>
          ))}
        </Table>
      )}
      <Pager pages={pages} label="Certificate pages" />
      {deleting && (
        <ConfirmDialog title={`Delete the certificate ${deleting}?`} confirmText="Delete certificate" onCancel={() => setDeleting(null)} onConfirm={() => (setDeleting(null), action.run(() => call('DELETE', `/certificates/${enc(deleting)}`)))}>
          <p>Its key goes with it. The proxies that served it fall back to a self-signed certificate, and to a new order for their own name.</p>
        </ConfirmDialog>
      )}
      {canWrite && <OrderCertificate onOrdered={follow} />}
    </>
  )
}
