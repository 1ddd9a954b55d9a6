/** @module A proxy's own settings: create (POST /proxy/targets) and change (PUT /proxy/targets/{hostname}); the API's 400 shows beside the field it names. */
import { enc, send } from '../api.ts'
import { CheckField, ErrorAlert, fieldError, isFieldFailure, TextField } from '../components/form.tsx'
import { numberOrNull, useForm } from '../components/use-form.ts'
import { useCanWrite } from '../session.tsx'
import type { Proxy } from '../types.ts'

const FIELDS = ['proxy_hostname', 'target_url', 'enabled', 'enable_http', 'enable_https', 'preserve_host_header', 'cert_email', 'redirect_http_to_https', 'hsts_max_age', 'upstream_timeout']

function valuesOf(proxy: Proxy | null) {
  return {
    proxy_hostname: proxy?.proxy_hostname ?? '',
    target_url: proxy?.target_url ?? '',
    enabled: proxy?.enabled ?? true,
    enable_http: proxy?.enable_http ?? true,
    enable_https: proxy?.enable_https ?? true,
    preserve_host_header: proxy?.preserve_host_header ?? true,
    cert_email: proxy?.cert_email ?? '',
    redirect_http_to_https: proxy?.redirect_http_to_https ?? false,
    hsts_max_age: proxy?.hsts_max_age === null || proxy?.hsts_max_age === undefined ? '' : String(proxy.hsts_max_age),
    upstream_timeout: String(proxy?.upstream_timeout ?? 60),
  }
}

/** `proxy` null: a new one. `onSaved` gets what the API answered. */
export function ProxySettings(props: { proxy: Proxy | null; onSaved: (proxy: Proxy) => void }) {
  const canWrite = useCanWrite()
  const form = useForm(valuesOf(props.proxy))
  const { values, failure } = form
  const save = (event: Event) => {
    event.preventDefault()
    void form.submit(async (current) => {
      const body = {
        target_url: current.target_url,
        enabled: current.enabled,
        enable_http: current.enable_http,
        enable_https: current.enable_https,
        preserve_host_header: current.preserve_host_header,
        cert_email: current.cert_email.trim() === '' ? null : current.cert_email,
        redirect_http_to_https: current.redirect_http_to_https,
        hsts_max_age: numberOrNull(current.hsts_max_age),
        upstream_timeout: numberOrNull(current.upstream_timeout),
      }
      const saved = props.proxy
        ? await send<Proxy>('PUT', `/proxy/targets/${enc(props.proxy.proxy_hostname)}`, body)
        : await send<Proxy>('POST', '/proxy/targets', { proxy_hostname: current.proxy_hostname, ...body })
      props.onSaved(saved)
    })
  }
  const error = (field: string) => fieldError(failure, field)
  return (
    <form onSubmit={save} aria-label={props.proxy ? 'Proxy settings' : 'New proxy'} noValidate>
      {!isFieldFailure(failure, FIELDS) && <ErrorAlert error={failure} />}
      {!props.proxy && (
        <TextField label="Hostname" name="proxy_hostname" value={values.proxy_hostname} onInput={form.set('proxy_hostname')} error={error('proxy_hostname')} hint="the name browsers use, e.g. app.example.com, or *.example.com" required />
      )}
      <TextField label="Target URL" name="target_url" value={values.target_url} onInput={form.set('target_url')} error={error('target_url')} hint="the backend: http(s)://host:port, or service://name" required />
      <div class="grid2">
        <div>
          <CheckField label="Enabled" name="enabled" checked={values.enabled} onChange={form.set('enabled')} />
          <CheckField label="Serve over HTTP" name="enable_http" checked={values.enable_http} onChange={form.set('enable_http')} />
          <CheckField label="Serve over HTTPS" name="enable_https" checked={values.enable_https} onChange={form.set('enable_https')} />
          <CheckField label="Keep the client's Host header" name="preserve_host_header" checked={values.preserve_host_header} onChange={form.set('preserve_host_header')} />
          <CheckField label="Redirect HTTP to HTTPS" name="redirect_http_to_https" checked={values.redirect_http_to_https} onChange={form.set('redirect_http_to_https')} />
        </div>
        <div>
          <TextField label="Certificate email (ACME)" name="cert_email" value={values.cert_email} onInput={form.set('cert_email')} error={error('cert_email')} hint="empty: ACME_EMAIL; without either, the self-signed certificate stays" type="email" />
          <TextField label="HSTS max-age (seconds)" name="hsts_max_age" value={values.hsts_max_age} onInput={form.set('hsts_max_age')} error={error('hsts_max_age')} hint="empty: no Strict-Transport-Security" inputmode="numeric" />
          <TextField label="Backend timeout (seconds)" name="upstream_timeout" value={values.upstream_timeout} onInput={form.set('upstream_timeout')} error={error('upstream_timeout')} inputmode="numeric" />
        </div>
      </div>
      {canWrite && (
        <div class="actions">
          <button type="submit" class="primary" disabled={form.busy}>
            {props.proxy ? 'Save settings' : 'Create proxy'}
          </button>
        </div>
      )}
    </form>
  )
}
