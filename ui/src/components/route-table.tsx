/** @module Routes as a table, in the order they are tried (priority, high first), with scope and mode. */
import type { Child } from 'hono/jsx/dom'
import { Badge } from './status.tsx'
import { Table } from './table.tsx'
import type { Route } from '../types.ts'

export function RouteTable(props: { label: string; routes: readonly Route[]; actions?: (route: Route) => Child }) {
  if (props.routes.length === 0) return <p class="muted">No routes.</p>
  return (
    <Table label={props.label} columns={['Priority', 'Path', 'Methods', 'Target', 'Scope', 'State', props.actions && 'Actions']}>
      {props.routes.map((route) => (
        <tr key={route.route_id} data-route-id={route.route_id}>
          <td>{route.priority}</td>
          <td>
            <code>{route.path_pattern}</code> {route.is_regex && <Badge text="regex" tone="muted" />}
            {route.description && <div class="muted">{route.description}</div>}
          </td>
          <td>{route.methods ? route.methods.join(', ') : 'any'}</td>
          <td>
            <span class="muted">{route.target_type}</span> <code>{route.target_value}</code>
          </td>
          <td>{route.scope === 'global' ? 'global' : `proxies: ${route.proxy_hostnames.join(', ')}`}</td>
          <td>
            <Badge text={route.enabled ? 'enabled' : 'disabled'} />
          </td>
          {props.actions && <td>{props.actions(route)}</td>}
        </tr>
      ))}
    </Table>
  )
}
