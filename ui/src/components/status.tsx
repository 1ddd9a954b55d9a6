/** @module Small shared pieces of display: status badges, times, sizes. */

const TONES: Record<string, string> = {
  issued: 'ok',
  ok: 'ok',
  up: 'ok',
  running: 'ok',
  enabled: 'ok',
  pending: 'warn',
  validating: 'warn',
  stale: 'warn',
  created: 'warn',
  restarting: 'warn',
  failed: 'bad',
  error: 'bad',
  down: 'bad',
  exited: 'bad',
  disabled: 'muted',
}

export function Badge(props: { text: string; tone?: 'ok' | 'warn' | 'bad' | 'muted' }) {
  return <span class={`badge ${props.tone ?? TONES[props.text] ?? 'muted'}`}>{props.text}</span>
}

export function formatTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '—'
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString()
}

/** Days from now to `iso` (negative once past). */
export function daysUntil(iso: string | null): number | null {
  if (!iso) return null
  return Math.floor((Date.parse(iso) - Date.now()) / 86_400_000)
}

export function Loading(props: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {props.what}…
    </p>
  )
}
