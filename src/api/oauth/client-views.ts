/** @module The admin's view of a registered client (GET /oauth/clients, /oauth/clients/{id}): its metadata and the server's own state of it, every field always present. */
import * as v from 'valibot'
import { OAuthClientSchema, type OAuthClient } from '../../oauth/index.ts'

export const AdminClientSchema = v.object({
  ...OAuthClientSchema.entries,
  last_used_at: v.pipe(v.nullable(v.number()), v.description('when a token was last issued to it (epoch seconds, to the minute); null if never')),
  expires_at: v.pipe(v.nullable(v.number()), v.description('when it is deleted unless it completes an authorization first (OAUTH_UNUSED_CLIENT_TTL; epoch seconds); null once it has')),
  resource_server: v.pipe(v.boolean(), v.description('introspection (RFC 7662) answers it about every client\'s tokens, not only its own')),
})

export function adminClientView(client: OAuthClient): v.InferOutput<typeof AdminClientSchema> {
  return { ...client, last_used_at: client.last_used_at ?? null, expires_at: client.expires_at ?? null, resource_server: client.resource_server === true }
}
