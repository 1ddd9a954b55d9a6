/** @module The routes that apply to one proxy, in the order they are tried, and its route mode (GET/PUT /proxy/targets/{hostname}/routes). */
import { enc, getJson, send } from '../api.ts'
import { ErrorAlert, SelectField } from '../components/form.tsx'
import { RouteTable } from '../components/route-table.tsx'
import { Loading } from '../components/status.tsx'
import { useData } from '../components/use-data.ts'
import { useForm } from '../components/use-form.ts'
import type { ProxyRoutes } from '../types.ts'

export function ProxyRoutesSection(props: { hostname: string }) {
  const routes = useData((signal) => getJson<ProxyRoutes>(`/proxy/targets/${enc(props.hostname)}/routes`, signal), [props.hostname])
  const form = useForm({})
  const changeMode = (route_mode: string) =>
    void form.submit(async () => {
      await send('PUT', `/proxy/targets/${enc(props.hostname)}/routes`, { route_mode })
      routes.reload()
    })
  return (
    <section aria-labelledby="routes-heading">
      <h2 id="routes-heading">Routes for this host</h2>
      <ErrorAlert error={routes.error ?? form.failure} />
      {routes.data ? (
        <>
          <SelectField
            label="Route mode"
            name="route_mode"
            value={routes.data.route_mode}
            onChange={changeMode}
            options={[
              ['all', 'all: every route that applies, except those disabled here'],
              ['selective', 'selective: only the routes enabled here'],
              ['none', 'none: no routes, only the target'],
            ]}
          />
          <RouteTable label={`Routes for ${props.hostname}`} routes={routes.data.applicable_routes} />
        </>
      ) : (
        <Loading what="routes" />
      )}
    </section>
  )
}
