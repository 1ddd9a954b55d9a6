/**
 * @module One way to find a client by its client_id, for /authorize and /token: an https URL is a
 * client ID metadata document (cimd.ts), anything else a registered client (registry.ts).
 */
import type { CimdResolver } from './cimd.ts'
import { isCimdClientId } from './cimd.ts'
import type { OAuthClient, TokenEndpointAuthMethod } from './model.ts'
import type { ClientAuthResult, ClientRegistry } from './registry.ts'

export interface ClientFinder {
  /** The client, or null when unknown or its metadata document was refused (the resolver logs why). */
  findClient(clientId: string): Promise<OAuthClient | null>
  /**
   * ClientRegistry.authenticate over both kinds: a metadata-document client is public, so it
   * authenticates with its client_id alone (method "none"), like a registered public client.
   */
  authenticate(clientId: string, secret: string | undefined, method: TokenEndpointAuthMethod): Promise<ClientAuthResult>
}

export function createClientFinder(registry: Pick<ClientRegistry, 'get' | 'authenticate'>, cimd: CimdResolver): ClientFinder {
  return {
    async findClient(clientId) {
      if (!isCimdClientId(clientId)) return registry.get(clientId)
      const result = await cimd.resolve(clientId)
      return result.ok ? result.client : null
    },
    async authenticate(clientId, secret, method) {
      if (!isCimdClientId(clientId)) return registry.authenticate(clientId, secret, method)
      const result = await cimd.resolve(clientId)
      if (!result.ok) return { ok: false, reason: 'unknown_client' }
      if (secret !== undefined) return { ok: false, reason: 'unexpected_secret' }
      if (method !== 'none') return { ok: false, reason: 'method_mismatch' }
      return { ok: true, client: result.client }
    },
  }
}
