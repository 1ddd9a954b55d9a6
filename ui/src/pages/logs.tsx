/**
 * @module Logs: request records searched with the API's filters (GET /logs/search, newest first, a
 * page at a time), and a live tail over Server-Sent Events (GET /logs/follow) with the same filters.
 * Records name clients, so both are for admins; a reader sees the numbers (GET /logs/stats).
 */
import { useEffect, useRef, useState } from 'hono/jsx/dom'
import { ApiFailure, getJson } from '../api.ts'
import { ErrorAlert, fieldError, SelectField, TextField } from '../components/form.tsx'
import { Badge, formatTime, Loading } from '../components/status.tsx'
import { Table } from '../components/table.tsx'
import { TrafficCards } from '../components/traffic-cards.tsx'
import { useData } from '../components/use-data.ts'
import { PageTitle } from '../router.tsx'
import { useCanWrite } from '../session.tsx'
import type { LogPage, LogRecord, Stats } from '../types.ts'

const TAIL_LINES = 500
const FILTERS = ['q', 'host', 'status', 'method', 'ip', 'user'] as const
type Filters = Record<(typeof FILTERS)[number] | 'from', string>
const EMPTY: Filters = { q: '', host: '', status: '', method: '', ip: '', user: '', from: '1h' }

function paramsOf(filters: Filters, withWindow: boolean): URLSearchParams {
  const params = new URLSearchParams()
  for (const name of FILTERS) if (filters[name].trim()) params.set(name, filters[name].trim())
  if (withWindow) params.set('from', filters.from)
  return params
}

const tone = (status: number) => (status >= 500 ? 'bad' : status >= 400 ? 'warn' : 'ok')

function RecordRows(props: { records: readonly LogRecord[] }) {
  return (
    <>
      {props.records.map((record) => (
        <tr key={record.id}>
          <td>{formatTime(record.timestamp)}</td>
          <td>
            <Badge text={String(record.status)} tone={tone(record.status)} />
          </td>
          <td>{record.method}</td>
          <td>{record.host}</td>
          <td class="mono">{record.path}</td>
          <td>{record.duration_ms.toFixed(1)} ms</td>
          <td>{record.client_ip}</td>
          <td>{record.user ?? ''}</td>
        </tr>
      ))}
    </>
  )
}

function RecordTable(props: { label: string; records: readonly LogRecord[] }) {
  return (
    <Table label={props.label} columns={['Time', 'Status', 'Method', 'Host', 'Path', 'Duration', 'Client', 'User']}>
      <RecordRows records={props.records} />
    </Table>
  )
}

/** The live tail: every record the filters match from now on, newest first, until stopped. */
function LiveTail(props: { filters: Filters }) {
  const [records, setRecords] = useState<LogRecord[]>([])
  const [state, setState] = useState<'connecting' | 'live' | 'reconnecting'>('connecting')
  const query = paramsOf(props.filters, false).toString()
  const pending = useRef<LogRecord[]>([])
  useEffect(() => {
    const source = new EventSource(`/logs/follow${query ? `?${query}` : ''}`)
    // Bursts are drawn once per frame, not once per record.
    let frame = 0
    const flush = () => {
      frame = 0
      const arrived = pending.current.splice(0).reverse()
      setRecords((current) => [...arrived, ...current].slice(0, TAIL_LINES))
    }
    source.addEventListener('open', () => setState('live'))
    source.addEventListener('error', () => setState('reconnecting'))
    source.addEventListener('request', (event) => {
      pending.current.push(JSON.parse((event as MessageEvent<string>).data) as LogRecord)
      frame ||= requestAnimationFrame(flush)
    })
    return () => {
      source.close()
      cancelAnimationFrame(frame)
    }
  }, [query])
  return (
    <section aria-labelledby="tail-heading">
      <h2 id="tail-heading">Live tail</h2>
      <p role="status">{state === 'live' ? `Following: ${records.length} requests so far (the last ${TAIL_LINES} are kept).` : state === 'connecting' ? 'Connecting…' : 'Connection lost; reconnecting…'}</p>
      <RecordTable label="Live requests" records={records} />
    </section>
  )
}

function StatsSummary() {
  const stats = useData((signal) => getJson<Stats>('/logs/stats?from=1h&bucket=minute', signal))
  if (stats.error) return <ErrorAlert error={stats.error} />
  if (!stats.data) return <Loading what="statistics" />
  return <TrafficCards stats={stats.data} requests="in all" />
}

export function LogsPage() {
  const canWrite = useCanWrite()
  const [draft, setDraft] = useState<Filters>(EMPTY)
  const [applied, setApplied] = useState<Filters>(EMPTY)
  const [tailing, setTailing] = useState(false)
  const [older, setOlder] = useState<{ records: LogRecord[]; cursor: string | null }>({ records: [], cursor: null })
  const search = useData(async (signal) => (canWrite ? getJson<LogPage>(`/logs/search?${paramsOf(applied, true)}`, signal) : null), [applied, canWrite])
  useEffect(() => setOlder({ records: [], cursor: search.data?.next_cursor ?? null }), [search.data])
  const set = (name: keyof Filters) => (value: string) => setDraft((current) => ({ ...current, [name]: value }))
  const loadOlder = async () => {
    const page = await getJson<LogPage>(`/logs/search?${paramsOf(applied, true)}&cursor=${encodeURIComponent(older.cursor!)}`)
    setOlder((current) => ({ records: [...current.records, ...page.records], cursor: page.next_cursor }))
  }
  if (!canWrite) {
    return (
      <>
        <PageTitle>Logs</PageTitle>
        <p>Request records name clients and users, so searching them and the live tail are for admins. The numbers of the last hour:</p>
        <StatsSummary />
      </>
    )
  }
  const failure = search.error instanceof ApiFailure ? search.error : null
  return (
    <>
      <PageTitle>Logs</PageTitle>
      <form
        class="filters"
        aria-label="Filter requests"
        onSubmit={(event: Event) => {
          event.preventDefault()
          setApplied(draft)
        }}
      >
        <TextField filter label="Search" name="q" value={draft.q} onInput={set('q')} error={fieldError(failure, 'q')} hint="words, or field:value such as status:404" />
        <TextField filter label="Host" name="host" value={draft.host} onInput={set('host')} error={fieldError(failure, 'host')} />
        <TextField filter label="Status" name="status" value={draft.status} onInput={set('status')} error={fieldError(failure, 'status')} hint="404 or 5xx" />
        <TextField filter label="Method" name="method" value={draft.method} onInput={set('method')} error={fieldError(failure, 'method')} />
        <TextField filter label="Client address" name="ip" value={draft.ip} onInput={set('ip')} error={fieldError(failure, 'ip')} hint="an address or a CIDR" />
        <TextField filter label="User" name="user" value={draft.user} onInput={set('user')} error={fieldError(failure, 'user')} />
        <SelectField
          filter
          label="Since"
          name="from"
          value={draft.from}
          onChange={set('from')}
          options={[
            ['15m', '15 minutes ago'],
            ['1h', 'an hour ago'],
            ['24h', 'a day ago'],
            ['7d', 'a week ago'],
          ]}
        />
        <button type="submit" class="primary">
          Search
        </button>
        <button type="button" aria-pressed={tailing} onClick={() => setTailing(!tailing)}>
          {tailing ? 'Stop live tail' : 'Start live tail'}
        </button>
      </form>
      {tailing && <LiveTail filters={applied} />}
      <h2>Search results</h2>
      {failure && !FILTERS.some((name) => fieldError(failure, name)) && <ErrorAlert error={failure} />}
      {search.data ? (
        <>
          <p role="status">{search.data.count + older.records.length} requests, newest first</p>
          <RecordTable label="Requests found" records={[...search.data.records, ...older.records]} />
          {older.cursor && (
            <div class="actions">
              <button type="button" onClick={loadOlder}>
                Older requests
              </button>
            </div>
          )}
        </>
      ) : (
        !search.error && <Loading what="requests" />
      )}
    </>
  )
}
