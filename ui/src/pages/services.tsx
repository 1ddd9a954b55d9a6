/**
 * @module Services: Docker services (state, start, stop, restart, live logs over SSE, resource use)
 * and external services (named backend URLs; an admin adds and deletes them). When the server runs no
 * Docker engine, that part says so and the rest works.
 */
import { useEffect, useState } from 'hono/jsx/dom'
import { ApiFailure, call, enc, getJson, send } from '../api.ts'
import { ConfirmDialog } from '../components/dialog.tsx'
import { ErrorAlert, fieldError, isFieldFailure, TextField } from '../components/form.tsx'
import { Pager, usePages } from '../components/pager.tsx'
import { Table } from '../components/table.tsx'
import { Badge, Loading } from '../components/status.tsx'
import { useData, useInterval } from '../components/use-data.ts'
import { useAction, useForm } from '../components/use-form.ts'
import { RowAction } from '../components/row-action.tsx'
import { PageTitle } from '../router.tsx'
import { useCanWrite } from '../session.tsx'

const LOG_LINES = 300
/** The floor for anything the page polls. */
const STATS_EVERY_MS = 5_000

interface DockerService {
  service_name: string
  image: string | null
  status: string
  status_detail: string | null
  health_status: string | null
  ports: { name: string; host_port: number; container_port: number; bind_address: string; protocol: string }[]
}
interface DockerList {
  services: DockerService[]
  foreign: unknown[]
  warnings: string[]
}
interface ExternalService {
  service_name: string
  target_url: string
  description: string
}
interface Stats {
  cpu_percent: number
  memory_usage: number
  memory_limit: number
  memory_percent: number
  pids: number
}

const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MiB`

/** A running container's output as it comes (GET /services/{name}/logs?follow=true, Server-Sent Events). */
function LiveLogs(props: { name: string }) {
  const [lines, setLines] = useState<string[]>([])
  const [ended, setEnded] = useState<string | null>(null)
  useEffect(() => {
    const source = new EventSource(`/services/${enc(props.name)}/logs?follow=true&tail=50`)
    source.addEventListener('log', (event) => {
      const line = JSON.parse((event as MessageEvent<string>).data) as { stream: string; text: string }
      setLines((current) => [...current, `${line.stream === 'stderr' ? '! ' : ''}${line.text}`].slice(-LOG_LINES))
    })
    source.addEventListener('end', () => (setEnded('The container stopped.'), source.close()))
    return () => source.close()
  }, [props.name])
  return (
    <div>
      <div class="tail" role="log" aria-label={`Output of ${props.name}`} tabIndex={0}>
        {lines.map((line) => (
          <div>{line}</div>
        ))}
      </div>
      {ended && <p role="status">{ended}</p>}
    </div>
  )
}

function ResourceUse(props: { name: string }) {
  const stats = useData((signal) => getJson<Stats>(`/services/${enc(props.name)}/stats`, signal), [props.name])
  useInterval(stats.reload, STATS_EVERY_MS)
  if (stats.error) return <ErrorAlert error={stats.error} />
  if (!stats.data) return <Loading what="resource use" />
  return (
    <p role="status" data-testid={`stats-${props.name}`}>
      CPU {stats.data.cpu_percent.toFixed(1)} %, memory {mib(stats.data.memory_usage)} of {mib(stats.data.memory_limit)} ({stats.data.memory_percent.toFixed(1)} %), {stats.data.pids} processes
    </p>
  )
}

function DockerServices() {
  const canWrite = useCanWrite()
  const list = useData((signal) => getJson<DockerList>('/services', signal))
  useInterval(list.reload, 15_000)
  const [open, setOpen] = useState<{ name: string; what: 'logs' | 'stats' } | null>(null)
  const lifecycle = useAction(list.reload)
  const pages = usePages(list.data?.services ?? [])
  if (list.error instanceof ApiFailure && list.error.status === 503) {
    return <p class="notice">Docker services are not available on this server: {list.error.description}</p>
  }
  return (
    <section aria-labelledby="docker-heading">
      <h2 id="docker-heading">Docker services</h2>
      <ErrorAlert error={list.error ?? lifecycle.failure} />
      {list.data?.warnings.map((warning) => (
        <p class="notice">{warning}</p>
      ))}
      {!list.data ? (
        !list.error && <Loading what="Docker services" />
      ) : list.data.services.length === 0 ? (
        <p class="muted">No Docker service. Create them with the API or the command line (service create --file spec.yaml).</p>
      ) : (
        <Table label="Docker services" columns={['Service', 'Image', 'State', 'Ports', 'Actions']}>
          {pages.rows.map((service) => (
            <tr key={service.service_name} data-service={service.service_name}>
              <td>{service.service_name}</td>
              <td class="mono">{service.image ?? 'built'}</td>
              <td>
                <Badge text={service.status} /> {service.health_status && <Badge text={service.health_status} tone={service.health_status === 'healthy' ? 'ok' : 'warn'} />}
                {service.status_detail && <div class="muted">{service.status_detail}</div>}
              </td>
              <td>{service.ports.map((port) => `${port.bind_address}:${port.host_port} → ${port.container_port}/${port.protocol}`).join(', ')}</td>
              <td>
                <span class="actions">
                  {canWrite &&
                    (['start', 'stop', 'restart'] as const).map((action) => (
                      <RowAction label={action[0]!.toUpperCase() + action.slice(1)} row={service.service_name} onClick={() => lifecycle.run(() => send('POST', `/services/${enc(service.service_name)}/${action}`))} />
                    ))}
                  <RowAction label="Logs" row={`of ${service.service_name}`} pressed={open?.name === service.service_name && open.what === 'logs'} onClick={() => setOpen({ name: service.service_name, what: 'logs' })} />
                  <RowAction label="Resource use" row={`of ${service.service_name}`} pressed={open?.name === service.service_name && open.what === 'stats'} onClick={() => setOpen({ name: service.service_name, what: 'stats' })} />
                </span>
              </td>
            </tr>
          ))}
        </Table>
      )}
      <Pager pages={pages} label="Docker service pages" />
      {list.data && list.data.foreign.length > 0 && <p class="muted">The engine runs {list.data.foreign.length} other containers, which this server does not manage.</p>}
      {open && (
        <section aria-labelledby="service-panel-heading">
          <h3 id="service-panel-heading">
            {open.what === 'logs' ? 'Live output' : 'Resource use'} of {open.name}
          </h3>
          {open.what === 'logs' ? <LiveLogs name={open.name} key={open.name} /> : <ResourceUse name={open.name} key={open.name} />}
          <button type="button" onClick={() => setOpen(null)}>
            Close
          </button>
        </section>
      )}
    </section>
  )
}

function AddExternalService(props: { onAdded: () => void }) {
  const empty = { service_name: '', target_url: '', description: '' }
  const form = useForm(empty)
  const { values, failure } = form
  const add = async (event: Event) => {
    event.preventDefault()
    if (await form.submit((current) => send('POST', '/services/external', current).then(() => undefined))) {
      form.reset(empty)
      props.onAdded()
    }
  }
  return (
    <form onSubmit={add} aria-label="Add an external service" noValidate>
      {!isFieldFailure(failure, ['service_name', 'target_url', 'description']) && <ErrorAlert error={failure} />}
      <div class="grid2">
        <TextField label="Service name" name="service_name" value={values.service_name} onInput={form.set('service_name')} error={fieldError(failure, 'service_name')} hint="proxies and routes name it as service://name" />
        <TextField label="Service URL" name="target_url" value={values.target_url} onInput={form.set('target_url')} error={fieldError(failure, 'target_url')} />
      </div>
      <TextField label="Service description" name="description" value={values.description} onInput={form.set('description')} error={fieldError(failure, 'description')} />
      <div class="actions">
        <button type="submit" class="primary" disabled={form.busy}>
          Add service
        </button>
      </div>
    </form>
  )
}

function ExternalServices() {
  const canWrite = useCanWrite()
  const list = useData((signal) => getJson<ExternalService[]>('/services/external', signal))
  const [deleting, setDeleting] = useState<string | null>(null)
  // A 409 names the proxies and routes that point at it.
  const removal = useAction(list.reload)
  const pages = usePages(list.data ?? [])
  const remove = (name: string) => (setDeleting(null), removal.run(() => call('DELETE', `/services/external/${enc(name)}`)))
  return (
    <section aria-labelledby="external-heading">
      <h2 id="external-heading">External services</h2>
      <ErrorAlert error={list.error ?? removal.failure} />
      {!list.data ? (
        !list.error && <Loading what="external services" />
      ) : list.data.length === 0 ? (
        <p class="muted">No external service.</p>
      ) : (
        <Table label="External services" columns={['Service', 'URL', 'Description', canWrite && 'Actions']}>
          {pages.rows.map((service) => (
            <tr key={service.service_name}>
              <td>{service.service_name}</td>
              <td class="mono">{service.target_url}</td>
              <td>{service.description}</td>
              {canWrite && (
                <td>
                  <RowAction label="Delete" row={service.service_name} danger onClick={() => setDeleting(service.service_name)} />
                </td>
              )}
            </tr>
          ))}
        </Table>
      )}
      <Pager pages={pages} label="External service pages" />
      {deleting && (
        <ConfirmDialog title={`Delete the service ${deleting}?`} confirmText="Delete service" onCancel={() => setDeleting(null)} onConfirm={() => remove(deleting)}>
          <p>Refused while proxies or routes point at it; the refusal names them.</p>
        </ConfirmDialog>
      )}
      {canWrite && <AddExternalService onAdded={list.reload} />}
    </section>
  )
}

export function ServicesPage() {
  return (
    <>
      <PageTitle>Services</PageTitle>
      <DockerServices />
      <ExternalServices />
    </>
  )
}
