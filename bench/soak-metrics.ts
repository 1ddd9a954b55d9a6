/**
 * @module The few numbers of our server's /metrics (Prometheus text) the soak run prints each minute:
 * open client connections, connections refused over a cap (by reason), and request records dropped.
 */
import type { Api } from './our-server.ts'

export interface ServerNumbers {
  readonly connections: number
  /** Cumulative, by reason (per_address, global). */
  readonly refused: Record<string, number>
  readonly logRecordsDropped: number
}

/** null when /metrics does not answer (it should: it needs no store). */
export async function readServerNumbers(api: Api): Promise<ServerNumbers | null> {
  try {
    const response = await api.request('GET', '/metrics')
    if (response.status !== 200) {
      await response.body?.cancel()
      return null
    }
    const refused: Record<string, number> = {}
    let connections = 0
    let logRecordsDropped = 0
    for (const line of (await response.text()).split('\n')) {
      const sample = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line)
      if (!sample) continue
      const [, name, labels, value] = sample
      if (name === 'ohp_active_connections') connections = Number(value)
      else if (name === 'ohp_log_records_dropped_total') logRecordsDropped = Number(value)
      else if (name === 'ohp_connections_refused_total') refused[/reason="([^"]*)"/.exec(labels ?? '')?.[1] ?? '?'] = Number(value)
    }
    return { connections, refused, logRecordsDropped }
  } catch {
    return null
  }
}

/** "conns 2,134, refused 12 per_address" */
export function describeNumbers(numbers: ServerNumbers | null): string {
  if (!numbers) return 'metrics: no answer'
  const refused = Object.entries(numbers.refused).filter(([, count]) => count > 0)
  return `conns ${numbers.connections.toLocaleString('en')}, refused ${refused.length === 0 ? '0' : refused.map(([reason, count]) => `${count} ${reason}`).join(' + ')}${numbers.logRecordsDropped > 0 ? `, log records dropped ${numbers.logRecordsDropped}` : ''}`
}
