/** @module Which page a path shows, and the navigation's sections in order. */
import { PageTitle } from '../router.tsx'
import { CertificatesPage } from './certificates.tsx'
import { DashboardPage } from './dashboard.tsx'
import { LogsPage } from './logs.tsx'
import { OAuthPage } from './oauth.tsx'
import { NEW_PROXY, ProxiesPage } from './proxies.tsx'
import { NewProxyPage, ProxyDetailPage } from './proxy-detail.tsx'
import { RoutesPage } from './routes.tsx'
import { ServicesPage } from './services.tsx'
import { SystemPage } from './system.tsx'

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

export function pageFor(path: string) {
  const [section, name, ...rest] = path.replace(/^\/ui\/?/, '').split('/').filter(Boolean).map(decodeURIComponent)
  if (rest.length > 0) return <NotFound />
  switch (section) {
    case undefined:
      return <DashboardPage />
    case 'proxies':
      return name === undefined ? <ProxiesPage /> : name === NEW_PROXY ? <NewProxyPage /> : <ProxyDetailPage hostname={name} key={name} />
    case 'routes':
      return name === undefined ? <RoutesPage /> : <NotFound />
    case 'certificates':
      return name === undefined ? <CertificatesPage /> : <NotFound />
    case 'services':
      return name === undefined ? <ServicesPage /> : <NotFound />
    case 'logs':
      return name === undefined ? <LogsPage /> : <NotFound />
    case 'oauth':
      return name === undefined ? <OAuthPage /> : <NotFound />
    case 'system':
      return name === undefined ? <SystemPage /> : <NotFound />
    default:
      return <NotFound />
  }
}

function NotFound() {
  return (
    <>
      <PageTitle>Not found</PageTitle>
      <p>This page does not exist. The sections are listed above.</p>
    </>
  )
}
