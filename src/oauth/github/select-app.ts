/** @module Which GitHub OAuth app a login uses: the proxy's own, else the global GITHUB_CLIENT_ID/_SECRET. */
import type { GitHubApp } from './types.ts'

export interface SelectedApp extends GitHubApp {
  /** `proxy`: the app stored for the proxy (`/proxy/targets/{h}/github-oauth`); `global`: the configured one. */
  readonly source: 'proxy' | 'global'
}

const isComplete = (app: { clientId?: string | undefined; clientSecret?: string | undefined } | null): app is GitHubApp =>
  !!app && !!app.clientId && !!app.clientSecret

/**
 * The proxy's own app when it has a complete one, else the configured fallback (config.github), else null:
 * no login is possible and the caller answers a clear error. Half an app (an id without a secret) never counts,
 * since the web flow cannot exchange a code without the secret.
 */
export function selectApp(
  proxyApp: { readonly clientId: string; readonly clientSecret: string } | null,
  fallback: { readonly clientId?: string | undefined; readonly clientSecret?: string | undefined },
): SelectedApp | null {
  if (isComplete(proxyApp)) return { clientId: proxyApp.clientId, clientSecret: proxyApp.clientSecret, source: 'proxy' }
  if (isComplete(fallback)) return { clientId: fallback.clientId, clientSecret: fallback.clientSecret, source: 'global' }
  return null
}
