/**
 * @module /proxy/targets/{hostname}/auth and /github-oauth: who may enter a proxy and with which
 * scopes, and the proxy's own GitHub app (admin writes, user reads). Every change is announced as
 * proxy_updated. The GitHub client secret is write-only: no response carries it.
 */
import {
  authSettingsOf,
  GitHubAppInputSchema,
  GitHubAppViewSchema,
  ProxyAuthSchema,
  UpdateProxyAuthSchema,
  TargetError,
  type GitHubAppView,
  type ProxyTarget,
  type ProxyTargets,
} from '../targets/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { HostnameParams } from './proxy-targets.ts'

const NOT_FOUND = { description: 'no such proxy' }

export function proxyAuthRoutes(targets: ProxyTargets): RouteSpec[] {
  const read = async (hostname: string): Promise<ProxyTarget> => {
    const target = await targets.get(hostname)
    if (!target) throw new TargetError('not_found', `no proxy for ${hostname}`)
    return target
  }

  const changeAuth = (method: 'put' | 'post', summary: string) =>
    defineRoute({
      method,
      path: '/proxy/targets/:hostname/auth',
      params: HostnameParams,
      scope: 'admin',
      tag: 'proxies',
      summary,
      body: UpdateProxyAuthSchema,
      responses: { 200: { description: 'the auth settings now', schema: ProxyAuthSchema }, 404: NOT_FOUND },
      handler: async (c, { params, body }) => c.json(authSettingsOf(await targets.update(params.hostname, body))),
    })

  return [
    defineRoute({
      method: 'get',
      path: '/proxy/targets/:hostname/auth',
      params: HostnameParams,
      scope: 'user',
      tag: 'proxies',
      summary: "Read a proxy's auth settings; null lists fall back to OAUTH_*_USERS, a null auth_required_users admits the users of the three scope lists",
      responses: { 200: { description: 'the auth settings', schema: ProxyAuthSchema }, 404: NOT_FOUND },
      handler: async (c, { params }) => c.json(authSettingsOf(await read(params.hostname))),
    }),
    changeAuth('put', 'Change auth settings: every field given is applied, the others keep their values; `*` means any GitHub user in every list'),
    // The original's spelling. Its POST overwrote every field (an omitted list became null); this one is PUT.
    changeAuth('post', 'The same as PUT (the original\'s spelling): every field given is applied, the others keep their values'),
    defineRoute({
      method: 'delete',
      path: '/proxy/targets/:hostname/auth',
      params: HostnameParams,
      scope: 'admin',
      tag: 'proxies',
      summary: 'Turn auth off (auth_enabled false); the lists and excluded paths are kept, so turning it on again restores them',
      responses: { 200: { description: 'the auth settings now', schema: ProxyAuthSchema }, 404: NOT_FOUND },
      handler: async (c, { params }) => c.json(authSettingsOf(await targets.update(params.hostname, { auth_enabled: false }))),
    }),
    defineRoute({
      method: 'get',
      path: '/proxy/targets/:hostname/github-oauth',
      params: HostnameParams,
      scope: 'user',
      tag: 'proxies',
      summary: "Read which GitHub app a proxy's logins use: its client id and whether a secret is set (never the secret); null means the global app",
      responses: { 200: { description: 'the GitHub app', schema: GitHubAppViewSchema }, 404: NOT_FOUND },
      handler: async (c, { params }) => c.json(gitHubAppView(await read(params.hostname))),
    }),
    defineRoute({
      method: 'post',
      path: '/proxy/targets/:hostname/github-oauth',
      params: HostnameParams,
      scope: 'admin',
      tag: 'proxies',
      summary: "Set the proxy's own GitHub OAuth app; the secret is stored and never returned",
      body: GitHubAppInputSchema,
      responses: { 200: { description: 'the GitHub app', schema: GitHubAppViewSchema }, 404: NOT_FOUND },
      async handler(c, { params, body }) {
        const app = { clientId: body.github_client_id, clientSecret: body.github_client_secret }
        return c.json(gitHubAppView(await targets.setGitHubApp(params.hostname, app)))
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/proxy/targets/:hostname/github-oauth',
      params: HostnameParams,
      scope: 'admin',
      tag: 'proxies',
      summary: "Remove the proxy's own GitHub app; its logins use GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET again",
      responses: { 200: { description: 'the GitHub app now (none)', schema: GitHubAppViewSchema }, 404: NOT_FOUND },
      handler: async (c, { params }) => c.json(gitHubAppView(await targets.setGitHubApp(params.hostname, null))),
    }),
  ]
}

function gitHubAppView(target: ProxyTarget): GitHubAppView {
  return { proxy_hostname: target.proxy_hostname, github_client_id: target.github_client_id, github_client_secret_set: target.github_client_secret_set }
}
