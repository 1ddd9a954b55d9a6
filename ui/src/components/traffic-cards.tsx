/** @module The numbers of GET /logs/stats at a glance: requests per minute (or in all), error rate, latency. */
import type { Stats } from '../types.ts'

export function TrafficCards(props: { stats: Stats; requests: 'per minute' | 'in all' }) {
  const { stats } = props
  return (
    <div class="cards">
      <div class="card">
        <div>{props.requests === 'per minute' ? 'Requests per minute' : 'Requests in the last hour'}</div>
        <div class="value">{props.requests === 'per minute' ? stats.requests_per_minute.toFixed(1) : stats.requests}</div>
      </div>
      <div class="card">
        <div>Error rate</div>
        <div class="value">{(stats.error_rate * 100).toFixed(1)} %</div>
      </div>
      <div class="card">
        <div>Latency p50 / p99</div>
        <div class="value">{stats.latency_ms ? `${stats.latency_ms.p50.toFixed(0)} / ${stats.latency_ms.p99.toFixed(0)} ms` : '—'}</div>
      </div>
    </div>
  )
}
