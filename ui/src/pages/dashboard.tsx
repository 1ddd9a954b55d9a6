/**
 * @module The dashboard: health of the store and of each node; requests per minute and the error rate
 * of the last hour; certificates close to expiry or failed; recent errors (admins). Refreshed every
 * 30 s while the page is visible.
 */
import { getJson } from '../api.ts'
import { ErrorAlert } from '../components/form.tsx'
import { NodesTable } from '../components/nodes-table.tsx'
import { Badge, daysUntil, formatTime, Loading } from '../components/status.tsx'
import { TrafficCards } from '../components/traffic-cards.tsx'
import { TrafficChart } from '../components/traffic-chart.tsx'
import { useData, useInterval } from '../components/use-data.ts'
import { Link, PageTitle } from '../router.tsx'
import { useCanWrite } from '../session.tsx'
import type { Certificate, LogPage, NodeView, Stats } from '../types.ts'

const REFRESH_MS = 30_000
/** Certificates with fewer days left than this are listed. */
const EXPIRY_WARNING_DAYS = 30

interface Health {
  status: string
  store: { kind: string; status: string }
}

function Health() {
  const health = useData((signal) => fetch('/health', { signal }).then((response) => response.json() as Promise<Health>))
  const nodes = useData((signal) => getJson<{ nodes: NodeView[] }>('/system/nodes', signal))
  useInterval(() => (health.reload(), nodes.reload()), REFRESH_MS)
  return (
    <section aria-labelledby="health-heading">
      <h2 id="health-heading">Health</h2>
      <ErrorAlert error={health.error ?? nodes.error} />
      {health.data && (
        <p>
          Store ({health.data.store.kind}): <Badge text={health.data.store.status} />
        </p>
      )}
      {nodes.data ? <NodesTable nodes={nodes.data.nodes} /> : <Loading what="nodes" />}
    </section>
  )
}

function Traffic() {
  const stats = useData((signal) => getJson<Stats>('/logs/stats?from=1h&bucket=minute', signal))
  useInterval(stats.reload, REFRESH_MS)
  const s = stats.data
  return (
    <section aria-labelledby="traffic-heading">
      <h2 id="traffic-heading">Traffic, last hour</h2>
      <ErrorAlert error={stats.error} />
      {s ? (
        <>
          <TrafficCards stats={s} requests="per minute" />
          <TrafficChart points={s.buckets} summary={`${s.requests} requests and ${s.errors} errors in the last hour, per minute`} />
        </>
      ) : (
        <Loading what="traffic" />
      )}
    </section>
  )
}

function CertificatesNeedingCare() {
  const certificates = useData((signal) => getJson<Certificate[]>('/certificates', signal))
  const needing = (certificates.data ?? []).filter((certificate) => certificate.status === 'failed' || (daysUntil(certificate.not_after) ?? Infinity) < EXPIRY_WARNING_DAYS)
  return (
    <section aria-labelledby="certs-heading">
      <h2 id="certs-heading">Certificates needing care</h2>
      <ErrorAlert error={certificates.error} />
      {certificates.data === undefined ? (
        <Loading what="certificates" />
      ) : needing.length === 0 ? (
        <p class="muted">None: no order failed, and none expires within {EXPIRY_WARNING_DAYS} days.</p>
      ) : (
        <ul>
          {needing.map((certificate) => (
            <li>
              <Link href="/ui/certificates">{certificate.cert_name}</Link> <Badge text={certificate.status} /> {certificate.not_after && `expires ${formatTime(certificate.not_after)}`} {certificate.error}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

function RecentErrors() {
  const errors = useData((signal) => getJson<LogPage>('/logs/errors?from=24h&limit=10', signal))
  return (
    <section aria-labelledby="errors-heading">
      <h2 id="errors-heading">Recent errors</h2>
      <ErrorAlert error={errors.error} />
      {errors.data === undefined ? (
        <Loading what="errors" />
      ) : errors.data.records.length === 0 ? (
        <p class="muted">No 5xx answer or backend failure in the last 24 hours.</p>
      ) : (
        <ul>
          {errors.data.records.map((record) => (
            <li key={record.id}>
              {formatTime(record.timestamp)} <Badge text={String(record.status)} tone="bad" /> {record.method} {record.host}
              <span class="mono">{record.path}</span> {record.backend_error && `(${record.backend_error})`}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

export function DashboardPage() {
  const canWrite = useCanWrite()
  return (
    <>
      <PageTitle>Dashboard</PageTitle>
      <Health />
      <Traffic />
      <CertificatesNeedingCare />
      {canWrite && <RecentErrors />}
    </>
  )
}
