/** @module Routes: every route in the order they are tried, with scope and mode; an admin adds, enables, disables and deletes them. */
import { useState } from 'hono/jsx/dom'
import { call, enc, getJson, send } from '../api.ts'
import { ConfirmDialog } from '../components/dialog.tsx'
import { CheckField, ErrorAlert, fieldError, isFieldFailure, listOf, SelectField, TextField } from '../components/form.tsx'
import { Pager, usePages } from '../components/pager.tsx'
import { RouteTable } from '../components/route-table.tsx'
import { Loading } from '../components/status.tsx'
import { useData } from '../components/use-data.ts'
import { numberOrNull, useAction, useForm } from '../components/use-form.ts'
import { RowAction } from '../components/row-action.tsx'
import { PageTitle } from '../router.tsx'
import { useCanWrite } from '../session.tsx'
import type { Route } from '../types.ts'

const FIELDS = ['path_pattern', 'target_type', 'target_value', 'priority', 'methods', 'scope', 'proxy_hostnames', 'is_regex', 'strip_prefix', 'description']
const EMPTY = { path_pattern: '', target_type: 'url', target_value: '', priority: '50', methods: '', scope: 'global', proxy_hostnames: '', is_regex: false, strip_prefix: false, description: '' }

function AddRoute(props: { onAdded: () => void }) {
  const form = useForm(EMPTY)
  const { values, failure } = form
  const add = async (event: Event) => {
    event.preventDefault()
    const added = await form.submit(async (current) => {
      await send('POST', '/routes', {
        path_pattern: current.path_pattern,
        target_type: current.target_type,
        target_value: current.target_value,
        priority: numberOrNull(current.priority) ?? 50,
        methods: listOf(current.methods.toUpperCase()),
        scope: current.scope,
        ...(current.scope === 'proxy' ? { proxy_hostnames: listOf(current.proxy_hostnames) ?? [] } : {}),
        is_regex: current.is_regex,
        strip_prefix: current.strip_prefix,
        description: current.description,
      })
    })
    if (added) {
      form.reset(EMPTY)
      props.onAdded()
    }
  }
  const error = (field: string) => fieldError(failure, field)
  return (
    <form onSubmit={add} aria-label="Add a route" noValidate>
      <h2>Add a route</h2>
      {!isFieldFailure(failure, FIELDS) && <ErrorAlert error={failure} />}
      <div class="grid2">
        <div>
          <TextField label="Path" name="path_pattern" value={values.path_pattern} onInput={form.set('path_pattern')} error={error('path_pattern')} hint="a prefix such as /api/, or a regular expression" required />
          <CheckField label="The path is a regular expression" name="is_regex" checked={values.is_regex} onChange={form.set('is_regex')} />
          <SelectField
            label="Target type"
            name="target_type"
            value={values.target_type}
            onChange={form.set('target_type')}
            error={error('target_type')}
            options={[
              ['url', 'URL'],
              ['port', 'port on this host'],
              ['service', 'service'],
              ['hostname', 'another proxy'],
            ]}
          />
          <TextField label="Target" name="target_value" value={values.target_value} onInput={form.set('target_value')} error={error('target_value')} required />
          <CheckField label="Strip the path prefix" name="strip_prefix" checked={values.strip_prefix} onChange={form.set('strip_prefix')} />
        </div>
        <div>
          <TextField label="Priority" name="priority" value={values.priority} onInput={form.set('priority')} error={error('priority')} hint="0–999, higher first" inputmode="numeric" />
          <TextField label="Methods" name="methods" value={values.methods} onInput={form.set('methods')} error={error('methods')} hint="e.g. GET, POST; empty: any" />
          <SelectField
            label="Scope"
            name="scope"
            value={values.scope}
            onChange={form.set('scope')}
            error={error('scope')}
            options={[
              ['global', 'global: every proxy'],
              ['proxy', 'only the proxies named'],
            ]}
          />
          {values.scope === 'proxy' && <TextField label="Proxies" name="proxy_hostnames" value={values.proxy_hostnames} onInput={form.set('proxy_hostnames')} error={error('proxy_hostnames')} hint="hostnames, comma-separated" />}
          <TextField label="Description" name="description" value={values.description} onInput={form.set('description')} error={error('description')} />
        </div>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={form.busy}>
          Add route
        </button>
      </div>
    </form>
  )
}

export function RoutesPage() {
  const canWrite = useCanWrite()
  const routes = useData((signal) => getJson<Route[]>('/routes', signal))
  const [deleting, setDeleting] = useState<Route | null>(null)
  const action = useAction(routes.reload)
  const pages = usePages(routes.data ?? [])
  return (
    <>
      <PageTitle>Routes</PageTitle>
      <p class="muted">Tried in this order: higher priority first, then the older route. The first whose path and method match decides where a request goes.</p>
      <ErrorAlert error={routes.error ?? action.failure} />
      {routes.data === undefined ? (
        <Loading what="routes" />
      ) : (
        <RouteTable
          label="Routes"
          routes={pages.rows}
          actions={
            canWrite
              ? (route) => (
                  <span class="actions">
                    <RowAction label={route.enabled ? 'Disable' : 'Enable'} row={route.path_pattern} onClick={() => action.run(() => send('PUT', `/routes/${enc(route.route_id)}`, { enabled: !route.enabled }))} />
                    <RowAction label="Delete" row={route.path_pattern} danger onClick={() => setDeleting(route)} />
                  </span>
                )
              : undefined
          }
        />
      )}
      <Pager pages={pages} label="Route pages" />
      {deleting && (
        <ConfirmDialog title={`Delete the route ${deleting.path_pattern}?`} confirmText="Delete route" onCancel={() => setDeleting(null)} onConfirm={() => (setDeleting(null), action.run(() => call('DELETE', `/routes/${enc(deleting.route_id)}`)))}>
          <p>
            Requests it matched go to the next route that matches, or to their proxy's target. ({deleting.route_id})
          </p>
        </ConfirmDialog>
      )}
      {canWrite && <AddRoute onAdded={routes.reload} />}
    </>
  )
}
