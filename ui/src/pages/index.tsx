/** @module Which page a path shows, and the navigation's sections in order. */
import { PageTitle } from '../router.tsx'
import { DashboardPage } from './dashboard.tsx'

export const NAVIGATION: readonly (readonly [string, string])[] = [
  ['/ui/', 'Dashboard'],
  ['/ui/proxies', 'Proxies'],
  ['/ui/routes', 'Routes'],
  ['/ui/certificates', 'Certificates'],
  ['/ui/services', 'Services'],
  ['/ui/logs', 'Logs'],
  ['/ui/oauth', 'OAuth'],
  ['/ui/system', 'System'],
]

export function pageFor(path: string, _location: string) {
  const parts = path.replace(/^\/ui\/?/, '').split('/').filter(Boolean).map(decodeURIComponent)
  switch (parts[0]) {
    case undefined:
      return <DashboardPage />
    default:
      return <PageTitle>Not found</PageTitle>
  }
}
