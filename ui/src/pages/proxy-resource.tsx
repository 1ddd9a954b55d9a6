/** @module A proxy's protected-resource metadata (RFC 9728; GET/PUT /proxy/targets/{hostname}/resource). */
import { enc, getJson, send } from '../api.ts'
import { ErrorAlert, fieldError, isFieldFailure, listOf, TextField } from '../components/form.tsx'
import { Loading } from '../components/status.tsx'
import { useData } from '../components/use-data.ts'
import { useForm } from '../components/use-form.ts'
import { useCanWrite } from '../session.tsx'
import type { ProxyResource } from '../types.ts'

const FIELDS = ['resource_endpoint', 'resource_scopes', 'resource_documentation']

function ResourceForm(props: { hostname: string; resource: ProxyResource; onSaved: () => void }) {
  const canWrite = useCanWrite()
  const form = useForm({
    resource_endpoint: props.resource.resource_endpoint,
    resource_scopes: (props.resource.resource_scopes ?? []).join(' '),
    resource_documentation: props.resource.resource_documentation ?? '',
  })
  const { values, failure } = form
  const save = (event: Event) => {
    event.preventDefault()
    void form.submit(async (current) => {
      await send('PUT', `/proxy/targets/${enc(props.hostname)}/resource`, {
        resource_endpoint: current.resource_endpoint,
        resource_scopes: listOf(current.resource_scopes),
        resource_documentation: current.resource_documentation.trim() === '' ? null : current.resource_documentation,
      })
      props.onSaved()
    })
  }
  return (
    <form onSubmit={save} aria-label="Resource metadata" noValidate>
      {!isFieldFailure(failure, FIELDS) && <ErrorAlert error={failure} />}
      <TextField label="Resource path" name="resource_endpoint" value={values.resource_endpoint} onInput={form.set('resource_endpoint')} error={fieldError(failure, 'resource_endpoint')} hint='added to the origin in the resource identifier ("/" adds nothing)' />
      <TextField label="Scopes supported" name="resource_scopes" value={values.resource_scopes} onInput={form.set('resource_scopes')} error={fieldError(failure, 'resource_scopes')} hint="space-separated" />
      <TextField label="Documentation URL" name="resource_documentation" value={values.resource_documentation} onInput={form.set('resource_documentation')} error={fieldError(failure, 'resource_documentation')} type="url" />
      {canWrite && (
        <div class="actions">
          <button type="submit" class="primary" disabled={form.busy}>
            Save resource metadata
          </button>
        </div>
      )}
    </form>
  )
}

export function ProxyResourceSection(props: { hostname: string }) {
  const resource = useData((signal) => getJson<ProxyResource>(`/proxy/targets/${enc(props.hostname)}/resource`, signal), [props.hostname])
  return (
    <section aria-labelledby="resource-heading">
      <h2 id="resource-heading">Resource metadata</h2>
      <ErrorAlert error={resource.error} />
      {resource.data ? <ResourceForm hostname={props.hostname} resource={resource.data} onSaved={resource.reload} /> : <Loading what="resource metadata" />}
    </section>
  )
}
