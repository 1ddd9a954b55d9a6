/** @module The nodes sharing this store (GET /system/nodes), as the dashboard and the System page show them. */
import { formatTime, Badge } from './status.tsx'
import { Table } from './table.tsx'
import type { NodeView } from '../types.ts'

function uptime(seconds: number): string {
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h`
  return `${Math.floor(seconds / 86_400)} days`
}

export function NodesTable(props: { nodes: readonly NodeView[] }) {
  return (
    <Table label="Nodes" columns={['Node', 'State', 'Version', 'Up for', 'Connections', 'Last heartbeat']}>
      {props.nodes.map((node) => (
        <tr key={node.node_id}>
          <td>
            {node.node_id} {node.this_node && <span class="muted">(this one)</span>}
          </td>
          <td>
            <Badge text={node.status} />
          </td>
          <td>{node.version}</td>
          <td>{uptime(node.uptime_sec)}</td>
          <td>{node.connections ?? '—'}</td>
          <td>{formatTime(node.last_seen_at)}</td>
        </tr>
      ))}
    </Table>
  )
}
