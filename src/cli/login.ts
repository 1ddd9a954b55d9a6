/**
 * @module `oauth-https-proxy login`: the OAuth device flow (RFC 8628) against the server's own
 * authorization server, which signs the user in with GitHub. The CLI is the server's first-party client
 * (`oauth-https-proxy-cli`, which exists whatever OAUTH_REGISTRATION says, so nothing is registered),
 * shows the user code, polls /token honouring interval and slow_down, and stores the tokens (never
 * printing them) for later commands.
 */
import { defineCommand } from 'citty'
import {
  apiError,
  CLI_SCOPES,
  CliError,
  createCredentialStore,
  createProgress,
  decodeJwtPayload,
  DEVICE_CODE_GRANT_TYPE,
  discover,
  EXIT,
  postTokenEndpoint,
  printable,
  resolveServerUrl,
  SERVER_ARGS,
  startDeviceAuthorization,
  storedTokens,
  type CredentialStore,
  type DeviceAuthorization,
  type Env,
  type Progress,
  type ServerMetadata,
} from './client/index.ts'
import { CLI_CLIENT_ID } from '../oauth/index.ts'

/** RFC 8628 §3.5: without an interval the client MUST use 5 seconds; slow_down adds 5. */
const DEFAULT_INTERVAL_SEC = 5
const SLOW_DOWN_STEP_SEC = 5

export interface LoginDeps {
  readonly env: Env
  readonly credentials: CredentialStore
  readonly nowMs: () => number
  /** Messages for people (stderr). */
  readonly progress: Progress
}

interface Started {
  readonly clientId: string
  readonly resource: string | undefined
  readonly device: DeviceAuthorization
}

/**
 * Starts the device flow as the CLI's own client. The resource is the server URL (RFC 8707); when the
 * server says that is not its API's resource (invalid_target: the API reached at http://127.0.0.1:9000
 * while its PUBLIC_URL is another name), ask again without one, which our server answers with its
 * API's resource.
 */
async function startDeviceFlow(serverUrl: string, metadata: ServerMetadata, scope: string): Promise<Started> {
  const endpoint = metadata.device_authorization_endpoint
  if (!endpoint) throw new CliError(`${serverUrl} does not offer the device flow (RFC 8628)`)
  const clientId = CLI_CLIENT_ID
  for (const resource of [serverUrl, undefined]) {
    const started = await startDeviceAuthorization(endpoint, { client_id: clientId, scope, resource }, serverUrl)
    if (started.ok) return { clientId, resource, device: started.device }
    if (started.error === 'invalid_client') throw new CliError(`${serverUrl} does not know the CLI's client (${clientId}): it is older than this CLI; upgrade it, or use a token from \`oauth-https-proxy token issue\` on its host`)
    if (started.error !== 'invalid_target' || resource === undefined) throw apiError(started.status, started.body, 'starting the device flow')
  }
  throw new CliError(`${serverUrl} refused to start the device flow`)
}

/** RFC 8628 §3.4–§3.5: poll until approved, denied or expired. */
async function pollForTokens(serverUrl: string, metadata: ServerMetadata, started: Started, deps: LoginDeps) {
  let intervalSec = started.device.interval && started.device.interval > 0 ? started.device.interval : DEFAULT_INTERVAL_SEC
  const deadlineMs = deps.nowMs() + started.device.expires_in * 1000
  for (;;) {
    await deps.progress.wait(intervalSec * 1000)
    if (deps.nowMs() >= deadlineMs) throw new CliError('the code expired before it was approved; run login again', EXIT.auth)
    const result = await postTokenEndpoint(metadata.token_endpoint, { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: started.device.device_code, client_id: started.clientId }, serverUrl)
    if (result.ok) return result.tokens
    switch (result.error) {
      case 'authorization_pending':
        continue
      case 'slow_down':
        intervalSec += SLOW_DOWN_STEP_SEC
        continue
      case 'expired_token':
        throw new CliError('the code expired before it was approved; run login again', EXIT.auth)
      case 'access_denied':
        throw new CliError('sign-in denied: it was refused at GitHub, or this GitHub user may not use this server', EXIT.auth)
      default:
        throw apiError(result.status, result.body, 'waiting for approval')
    }
  }
}

export async function login(args: { url?: string; scope?: string }, deps: LoginDeps): Promise<void> {
  const serverUrl = resolveServerUrl(args, deps.env)
  const scope = (args.scope ?? CLI_SCOPES).split(/[\s,]+/).filter(Boolean).join(' ')
  const metadata = await discover(serverUrl)
  const started = await startDeviceFlow(serverUrl, metadata, scope)

  deps.progress.say(`! First copy your one-time code: ${printable(started.device.user_code, 64)}`)
  deps.progress.say(`  Then open ${printable(started.device.verification_uri, 300)} in a browser, enter the code and authorize.`)
  const tokens = await deps.progress.during('Waiting for approval', () => pollForTokens(serverUrl, metadata, started, deps))

  deps.credentials.set(serverUrl, {
    issuer: metadata.issuer,
    client_id: started.clientId,
    token_endpoint: metadata.token_endpoint,
    ...(metadata.revocation_endpoint ? { revocation_endpoint: metadata.revocation_endpoint } : {}),
    ...(started.resource ? { resource: started.resource } : {}),
    tokens: storedTokens(tokens, deps.nowMs()),
  })
  const claims = decodeJwtPayload(tokens.access_token) ?? {}
  const user = typeof claims.username === 'string' ? claims.username : typeof claims.sub === 'string' ? claims.sub : 'unknown user'
  const scopes = tokens.scope ?? (typeof claims.scope === 'string' ? claims.scope : '')
  deps.progress.say(`✓ Signed in to ${serverUrl} as ${printable(user, 100)} (scopes: ${printable(scopes || 'none', 100)})`)
}

export const loginCommand = defineCommand({
  meta: {
    name: 'login',
    description: 'Sign in with GitHub (OAuth device flow) and store the tokens for this server\nExample: oauth-https-proxy login --url https://api.example.com',
  },
  args: {
    ...SERVER_ARGS,
    scope: { type: 'string', valueHint: 'scopes', description: `scopes to ask for; "user" for read-only (default: "${CLI_SCOPES}", what you hold of them)` },
  },
  async run({ args }) {
    await login(args, { env: process.env, credentials: createCredentialStore(process.env), nowMs: Date.now, progress: createProgress(process.stderr, process.env) })
  },
})
