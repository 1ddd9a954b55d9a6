/**
 * @module The GitHub upstream client: one object per configured GitHub (github.com or an Enterprise Server),
 * holding its base URLs, transport, deadline and logger. Every call returns a tagged result and never throws.
 */
import type { Logger } from '../../lib/index.ts'
import { pollDeviceFlow, startDeviceFlow, type PollDeviceFlowInput, type StartDeviceFlowInput } from './device-flow.ts'
import type { HttpDeps } from './http.ts'
import { findMembership, type MembershipQuery, type MembershipResult } from './memberships.ts'
import type { DeviceFlowStart, DevicePoll, ExchangeCodeResult, FetchUserResult } from './types.ts'
import { fetchUser } from './user-api.ts'
import { buildAuthorizeUrl, exchangeCode, type AuthorizeUrlInput, type ExchangeCodeInput } from './web-flow.ts'

export const DEFAULT_GITHUB_TIMEOUT_MS = 10_000

export interface GitHubClientOptions {
  /** GITHUB_URL: `https://github.com`, or an Enterprise Server's `https://ghe.example.com`. */
  readonly webUrl: string
  /** GITHUB_API_URL: `https://api.github.com`, or `https://ghe.example.com/api/v3`. */
  readonly apiUrl: string
  readonly fetch?: typeof fetch
  readonly logger: Logger
  /** Deadline for each call, headers and body together. */
  readonly timeoutMs?: number
}

export interface GitHubClient {
  /** Where to send the browser; `state` is the caller's single-use value. */
  authorizeUrl(input: AuthorizeUrlInput): string
  exchangeCode(input: ExchangeCodeInput): Promise<ExchangeCodeResult>
  fetchUser(accessToken: string): Promise<FetchUserResult>
  /** Whether the token's user has an active membership in one of the listed organisations or teams (needs `read:org`). */
  findMembership(accessToken: string, query: MembershipQuery): Promise<MembershipResult>
  startDeviceFlow(input: StartDeviceFlowInput): Promise<DeviceFlowStart>
  pollDeviceFlow(input: PollDeviceFlowInput): Promise<DevicePoll>
}

/** A base URL without a trailing slash; the factory refuses anything but an absolute http(s) URL. */
function baseUrl(name: string, text: string): string {
  const url = URL.parse(text)
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password) {
    throw new Error(`GitHub client: ${name} must be an http(s) URL without query, fragment or credentials`)
  }
  return url.href.replace(/\/+$/, '')
}

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const webUrl = baseUrl('webUrl', options.webUrl)
  const apiUrl = baseUrl('apiUrl', options.apiUrl)
  const timeoutMs = options.timeoutMs ?? DEFAULT_GITHUB_TIMEOUT_MS
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new Error('GitHub client: timeoutMs must be a positive integer')
  const deps: HttpDeps = { fetch: options.fetch ?? fetch, timeoutMs }
  const { logger } = options
  // Log lines carry the call, the reason and GitHub's own error words: never codes, tokens or secrets.
  const host = new URL(webUrl).host

  return {
    authorizeUrl: (input) => buildAuthorizeUrl(webUrl, input),

    async exchangeCode(input) {
      const result = await exchangeCode(deps, webUrl, input)
      if (!result.ok) logger.warn('github code exchange failed', { host, reason: result.reason, detail: result.detail })
      return result
    },

    async fetchUser(accessToken) {
      const result = await fetchUser(deps, apiUrl, accessToken)
      if (!result.ok) logger.warn('github user lookup failed', { host, reason: result.reason, detail: result.detail })
      return result
    },

    async findMembership(accessToken, query) {
      const result = await findMembership(deps, apiUrl, accessToken, query)
      if (!result.ok) logger.warn('github membership lookup failed', { host, reason: result.reason, detail: result.detail })
      else if (result.refused.length > 0) logger.info('github refused membership lookups', { host, entries: result.refused.join(' ') })
      return result
    },

    async startDeviceFlow(input) {
      const result = await startDeviceFlow(deps, webUrl, input)
      if (!result.ok) logger.warn('github device flow start failed', { host, reason: result.reason, detail: result.detail })
      return result
    },

    async pollDeviceFlow(input) {
      const result = await pollDeviceFlow(deps, webUrl, input)
      if (result.status === 'error') logger.warn('github device flow poll failed', { host, detail: result.detail })
      return result
    },
  }
}
