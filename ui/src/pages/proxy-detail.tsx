/** @module One proxy: its settings, auth, routes and resource metadata; or the form for a new one. Delete asks first, naming what depends on it. */
import { useState } from 'hono/jsx/dom'
import { ApiFailure, call, enc, getJson } from '../api.ts'
import { ConfirmDialog } from '../components/dialog.tsx'
import { CheckField, ErrorAlert } from '../components/form.tsx'
import { Loading } from '../components/status.tsx'
import { useData } from '../components/use-data.ts'
import { navigate, PageTitle } from '../router.tsx'
import { useCanWrite } from '../session.tsx'
import type { Proxy, Route } from '../types.ts'
import { ProxyAuthSection } from './proxy-auth.tsx'
import { ProxyResourceSection } from './proxy-resource.tsx'
import { ProxyRoutesSection } from './proxy-routes.tsx'
import { ProxySettings } from './proxy-settings.tsx'

export function NewProxyPage() {
  return (
    <>
      <PageTitle>New proxy</PageTitle>
      <ProxySettings proxy={null} onSaved={(proxy) => navigate(`/ui/proxies/${encodeURIComponent(proxy.proxy_hostname)}`)} />
    </>
  )
}

/** The dialog names the routes that target this proxy (the API refuses with 409 while there are any, unless forced). */
function DeleteProxy(props: { proxy: Proxy }) {
  const hostname = props.proxy.proxy_hostname
  const [open, setOpen] = useState(false)
  const [withCertificate, setWithCertificate] = useState(false)
  const [failure, setFailure] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const dependents = useData(async (signal) => (open ? (await getJson<Route[]>('/routes', signal)).filter((route) => route.target_type === 'hostname' && route.target_value === hostname) : []), [open])
  const remove = async () => {
    setBusy(true)
    try {
      const force = (dependents.data?.length ?? 0) > 0 ? '&force=true' : ''
      await call('DELETE', `/proxy/targets/${enc(hostname)}?delete_certificate=${withCertificate}${force}`)
      navigate('/ui/proxies')
    } catch (error) {
      setFailure(error)
      setBusy(false)
    }
  }
  return (
    <>
      <button type="button" class="danger" onClick={() => setOpen(true)}>
        Delete proxy
      </button>
      {open && (
        <ConfirmDialog title={`Delete ${hostname}?`} confirmText={`Delete ${hostname}`} onConfirm={remove} onCancel={() => (setOpen(false), setFailure(null))} busy={busy || dependents.loading}>
          <p>Its instances stop at once and its ports are freed.</p>
          {dependents.loading ? (
            <Loading what="what depends on it" />
          ) : dependents.data && dependents.data.length > 0 ? (
            <div class="alert" data-testid="dependents">
              These routes target it and will answer 502 until they are changed:
              <ul>
                {dependents.data.map((route) => (
                  <li>
                    <code>{route.route_id}</code> ({route.path_pattern})
                  </li>
                ))}
              </ul>
            </div>
          ) : (
            <p>No route targets it.</p>
          )}
          <CheckField label={`Also delete its certificate (${props.proxy.cert_name ?? hostname})`} name="delete_certificate" checked={withCertificate} onChange={setWithCertificate} />
          <ErrorAlert error={failure} />
        </ConfirmDialog>
      )}
    </>
  )
}

export function ProxyDetailPage(props: { hostname: string }) {
  const canWrite = useCanWrite()
  const proxy = useData((signal) => getJson<Proxy>(`/proxy/targets/${enc(props.hostname)}`, signal), [props.hostname])
  if (proxy.error instanceof ApiFailure && proxy.error.status === 404) {
    return (
      <>
        <PageTitle>{props.hostname}</PageTitle>
        <p>There is no proxy for {props.hostname}.</p>
      </>
    )
  }
  return (
    <>
      <PageTitle>{props.hostname}</PageTitle>
      <ErrorAlert error={proxy.error} />
      {proxy.data ? (
        <>
          <section aria-labelledby="settings-heading">
            <h2 id="settings-heading">Settings</h2>
            <ProxySettings proxy={proxy.data} onSaved={proxy.reload} key={proxy.data.updated_at} />
          </section>
          <ProxyAuthSection hostname={props.hostname} />
          <ProxyRoutesSection hostname={props.hostname} />
          <ProxyResourceSection hostname={props.hostname} />
          {canWrite && (
            <section aria-labelledby="danger-heading">
              <h2 id="danger-heading">Delete</h2>
              <DeleteProxy proxy={proxy.data} />
            </section>
          )}
        </>
      ) : (
        <Loading what="the proxy" />
      )}
    </>
  )
}
