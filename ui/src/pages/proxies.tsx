/** @module Proxies: every proxy, searchable, in a list that renders only what is in view (1,000 and more stay fast). */
import { useMemo, useState } from 'hono/jsx/dom'
import { getJson } from '../api.ts'
import { ErrorAlert, TextField } from '../components/form.tsx'
import { Badge, Loading } from '../components/status.tsx'
import { useData } from '../components/use-data.ts'
import { VirtualList } from '../components/virtual-list.tsx'
import { Link, navigate, PageTitle, queryOf, useLocation } from '../router.tsx'
import { useCanWrite } from '../session.tsx'
import type { Proxy } from '../types.ts'

/** The form for a new proxy (/ui/proxies/_new): "_" is in no host name, so no proxy's page can be taken for it. */
export const NEW_PROXY = '_new'

function matches(proxy: Proxy, words: readonly string[]): boolean {
  const text = `${proxy.proxy_hostname} ${proxy.target_url}`.toLowerCase()
  return words.every((word) => text.includes(word))
}

export function ProxiesPage() {
  const canWrite = useCanWrite()
  const location = useLocation()
  const [search, setSearch] = useState(queryOf(location).get('q') ?? '')
  const proxies = useData((signal) => getJson<Proxy[]>('/proxy/targets', signal))
  const shown = useMemo(() => {
    const words = search.toLowerCase().split(/\s+/).filter(Boolean)
    const all = [...(proxies.data ?? [])].sort((a, b) => (a.proxy_hostname < b.proxy_hostname ? -1 : a.proxy_hostname > b.proxy_hostname ? 1 : 0))
    return words.length === 0 ? all : all.filter((proxy) => matches(proxy, words))
  }, [proxies.data, search])
  const onSearch = (value: string) => {
    setSearch(value)
    // The search is part of the address: back and reload keep it.
    history.replaceState(null, '', value ? `/ui/proxies?q=${encodeURIComponent(value)}` : '/ui/proxies')
  }
  return (
    <>
      <PageTitle>Proxies</PageTitle>
      <div class="filters">
        <TextField filter label="Search proxies" name="q" value={search} onInput={onSearch} hint="hostname or target, several words narrow it" />
        {canWrite && (
          <button type="button" class="primary" onClick={() => navigate(`/ui/proxies/${NEW_PROXY}`)}>
            New proxy
          </button>
        )}
      </div>
      <ErrorAlert error={proxies.error} />
      {proxies.data === undefined ? (
        <Loading what="proxies" />
      ) : (
        <>
          <p role="status" aria-live="polite" data-testid="proxy-count">
            {shown.length === proxies.data.length ? `${shown.length} proxies` : `${shown.length} of ${proxies.data.length} proxies`}
          </p>
          <VirtualList
            label="Proxies"
            items={shown}
            columns={['Hostname', 'Target', 'Auth', 'State']}
            keyOf={(proxy) => proxy.proxy_hostname}
            row={(proxy) => [
              <Link href={`/ui/proxies/${encodeURIComponent(proxy.proxy_hostname)}`}>{proxy.proxy_hostname}</Link>,
              <span class="mono">{proxy.target_url}</span>,
              proxy.auth_enabled ? <Badge text={proxy.auth_mode} tone="ok" /> : <span class="muted">none</span>,
              <Badge text={proxy.enabled ? 'enabled' : 'disabled'} />,
            ]}
          />
        </>
      )}
    </>
  )
}
