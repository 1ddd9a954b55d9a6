/**
 * @module One way to find a client by its client_id, for /authorize and /token: an https URL is a
 * client ID metadata document (cimd.ts), `proxy:<hostname>` a proxy's own browser client
 * (proxy-clients.ts), the web UI's id its own client (ui-client.ts), the command line's its own
 * (cli-client.ts), anything else a registered client (registry.ts).
 */
import type { CimdResolver } from './cimd.ts'
import { CLI_CLIENT_ID, cliClient, type CliClientRules } from './cli-client.ts'
import { isCimdClientId } from './cimd.ts'
import type { OAuthClient, TokenEndpointAuthMethod } from './model.ts'
import { isProxyRedirectUri, isProxyResource, proxyClient, proxyHostnameOf, type ProxyDirectory } from './proxy-clients.ts'
import { redirectUriMatches } from './redirect-uri.ts'
import type { ClientAuthResult, ClientRegistry } from './registry.ts'
import { isUiRedirectUri, UI_CLIENT_ID, uiClient, type UiOrigins } from './ui-client.ts'

/** What a found client may do at /authorize beyond what its metadata lists. */
export interface ClientRules {
  /** OAuth 2.1 §4.1.1, RFC 9700 §2.1: the requested redirect_uri is one the client may use (exact match; a loopback port aside). */
  acceptsRedirectUri(client: OAuthClient, redirectUri: string): Promise<boolean>
  /** Whether the client may ask for tokens for this (resolved) resource; only a proxy's own client is limited. */
  mayUseResource(client: OAuthClient, resource: string): Promise<boolean>
  /** Whether /authorize goes straight to the login for this client, with no consent page (the web UI's own client only). */
  skipsConsent?(client: OAuthClient): boolean
}

export interface ClientFinder extends ClientRules {
  /** The client, or null when unknown or its metadata document was refused (the resolver logs why). */
  findClient(clientId: string): Promise<OAuthClient | null>
  /**
   * ClientRegistry.authenticate over every kind: a metadata-document client and a proxy's client are
   * public, so they authenticate with their client_id alone (method "none"), like a registered public client.
   */
  authenticate(clientId: string, secret: string | undefined, method: TokenEndpointAuthMethod): Promise<ClientAuthResult>
  /** ClientRegistry.recordUse for a registered client; a metadata-document or proxy client keeps no record, so always true. */
  recordUse(client: OAuthClient): Promise<boolean>
}

/** The web UI's client exists only where the composition root says where the UI lives (`ui`), the CLI's where it names the API's resource (`cli`). */
export function createClientFinder(registry: Pick<ClientRegistry, 'get' | 'authenticate' | 'recordUse'>, cimd: CimdResolver, proxies: ProxyDirectory, ui?: UiOrigins, cli?: CliClientRules): ClientFinder {
  const isUi = (clientId: string) => ui !== undefined && clientId === UI_CLIENT_ID
  const isCli = (clientId: string) => cli !== undefined && clientId === CLI_CLIENT_ID
  /** Clients nobody registers and the registry does not hold: public, found by their id alone. */
  const isFirstParty = (clientId: string) => proxyHostnameOf(clientId) !== null || isCimdClientId(clientId) || isUi(clientId) || isCli(clientId)
  /** A public client found by its id alone: the same answers as the registry gives for one. */
  const authenticatePublic = (client: OAuthClient | null, secret: string | undefined, method: TokenEndpointAuthMethod): ClientAuthResult => {
    if (!client) return { ok: false, reason: 'unknown_client' }
    if (secret !== undefined) return { ok: false, reason: 'unexpected_secret' }
    if (method !== 'none') return { ok: false, reason: 'method_mismatch' }
    return { ok: true, client }
  }

  async function findClient(clientId: string): Promise<OAuthClient | null> {
    if (isUi(clientId)) return uiClient()
    if (isCli(clientId)) return cliClient()
    const proxy = proxyHostnameOf(clientId)
    if (proxy !== null) return (await proxies.isRedirectProxy(proxy)) ? proxyClient(proxy) : null
    if (!isCimdClientId(clientId)) return registry.get(clientId)
    const result = await cimd.resolve(clientId)
    return result.ok ? result.client : null
  }

  return {
    findClient,
    async authenticate(clientId, secret, method) {
      if (!isFirstParty(clientId)) return registry.authenticate(clientId, secret, method)
      return authenticatePublic(await findClient(clientId), secret, method)
    },
    async recordUse(client) {
      if (isFirstParty(client.client_id)) return true
      return registry.recordUse(client)
    },
    async acceptsRedirectUri(client, redirectUri) {
      if (isUi(client.client_id)) return isUiRedirectUri(ui!, redirectUri)
      const proxy = proxyHostnameOf(client.client_id)
      if (proxy !== null) return isProxyRedirectUri(proxies, proxy, redirectUri)
      return client.redirect_uris.some((registered) => redirectUriMatches(registered, redirectUri))
    },
    async mayUseResource(client, resource) {
      if (isUi(client.client_id)) return resource === ui!.apiResource
      if (isCli(client.client_id)) return resource === cli!.apiResource
      const proxy = proxyHostnameOf(client.client_id)
      return proxy === null || isProxyResource(proxies, proxy, resource)
    },
    skipsConsent: (client) => isUi(client.client_id),
  }
}
