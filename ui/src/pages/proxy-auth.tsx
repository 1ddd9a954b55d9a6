/** @module A proxy's auth settings (GET/PUT /proxy/targets/{hostname}/auth): who may enter and with which scopes. */
import { enc, getJson, send } from '../api.ts'
import { CheckField, ErrorAlert, fieldError, isFieldFailure, listOf, SelectField, TextField } from '../components/form.tsx'
import { Loading } from '../components/status.tsx'
import { useData } from '../components/use-data.ts'
import { useForm } from '../components/use-form.ts'
import { useCanWrite } from '../session.tsx'
import type { ProxyAuth } from '../types.ts'

const LISTS = ['auth_required_users', 'oauth_admin_users', 'oauth_user_users', 'oauth_mcp_users', 'auth_excluded_paths'] as const
const FIELDS = ['auth_enabled', 'auth_mode', ...LISTS]
const joined = (list: readonly string[] | null) => (list ?? []).join(', ')

function AuthForm(props: { hostname: string; auth: ProxyAuth; onSaved: () => void }) {
  const canWrite = useCanWrite()
  const form = useForm({
    auth_enabled: props.auth.auth_enabled,
    auth_mode: props.auth.auth_mode,
    auth_required_users: joined(props.auth.auth_required_users),
    oauth_admin_users: joined(props.auth.oauth_admin_users),
    oauth_user_users: joined(props.auth.oauth_user_users),
    oauth_mcp_users: joined(props.auth.oauth_mcp_users),
    auth_excluded_paths: joined(props.auth.auth_excluded_paths),
  })
  const { values, failure } = form
  const save = (event: Event) => {
    event.preventDefault()
    void form.submit(async (current) => {
      await send('PUT', `/proxy/targets/${enc(props.hostname)}/auth`, {
        auth_enabled: current.auth_enabled,
        auth_mode: current.auth_mode,
        auth_required_users: listOf(current.auth_required_users),
        oauth_admin_users: listOf(current.oauth_admin_users),
        oauth_user_users: listOf(current.oauth_user_users),
        oauth_mcp_users: listOf(current.oauth_mcp_users),
        auth_excluded_paths: listOf(current.auth_excluded_paths) ?? [],
      })
      props.onSaved()
    })
  }
  const list = (field: (typeof LISTS)[number], label: string, hint: string) => <TextField label={label} name={field} value={values[field]} onInput={form.set(field)} error={fieldError(failure, field)} hint={hint} />
  return (
    <form onSubmit={save} aria-label="Auth settings" noValidate>
      {!isFieldFailure(failure, FIELDS) && <ErrorAlert error={failure} />}
      <CheckField label="Require sign-in (OAuth)" name="auth_enabled" checked={values.auth_enabled} onChange={form.set('auth_enabled')} />
      <SelectField
        label="Mode"
        name="auth_mode"
        value={values.auth_mode}
        onChange={form.set('auth_mode')}
        error={fieldError(failure, 'auth_mode')}
        options={[
          ['forward', 'forward: 401 with a challenge (APIs, MCP)'],
          ['redirect', 'redirect: browsers sign in, session cookie'],
          ['passthrough', 'passthrough: identity headers when a token is present'],
        ]}
      />
      {list('auth_required_users', 'Who may enter', 'GitHub logins, comma-separated; * for any GitHub user; empty: OAUTH_*_USERS decide')}
      <div class="grid2">
        <div>{list('oauth_admin_users', 'Admin scope for', 'GitHub logins')}</div>
        <div>{list('oauth_user_users', 'User scope for', 'GitHub logins')}</div>
        <div>{list('oauth_mcp_users', 'MCP scope for', 'GitHub logins')}</div>
        <div>{list('auth_excluded_paths', 'Paths without auth', 'path prefixes, e.g. /health')}</div>
      </div>
      {canWrite && (
        <div class="actions">
          <button type="submit" class="primary" disabled={form.busy}>
            Save auth settings
          </button>
        </div>
      )}
    </form>
  )
}

export function ProxyAuthSection(props: { hostname: string }) {
  const auth = useData((signal) => getJson<ProxyAuth>(`/proxy/targets/${enc(props.hostname)}/auth`, signal), [props.hostname])
  return (
    <section aria-labelledby="auth-heading">
      <h2 id="auth-heading">Authentication</h2>
      <ErrorAlert error={auth.error} />
      {auth.data ? <AuthForm hostname={props.hostname} auth={auth.data} onSaved={auth.reload} /> : <Loading what="auth settings" />}
    </section>
  )
}
