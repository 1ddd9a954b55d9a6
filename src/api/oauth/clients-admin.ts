/**
 * @module The admin view of one registered OAuth client: GET /oauth/clients/{client_id} (the client,
 * never a secret or hash, with its live token families) and DELETE /oauth/clients/{client_id} (the
 * registration goes, and every token family it holds is revoked first, so no token outlives it).
 */
import * as v from 'valibot'
import { ClientIdSchema, OAuthClientSchema, type ClientRegistry, type Grants } from '../../oauth/index.ts'
import { defineRoute, type RouteSpec } from '../define-route.ts'
import { ApiError } from '../errors.ts'
import { FamilySchema, familyView } from './tokens-admin.ts'

const TAG = 'oauth'
const ClientParams = v.object({ client_id: ClientIdSchema })
const ClientDetailSchema = v.object({ ...OAuthClientSchema.entries, token_families: v.array(FamilySchema) })
const NOT_FOUND = { description: 'no registered client with this id' }

const unknownClient = (clientId: string) => new ApiError(404, 'not_found', `no registered client ${clientId}`)

export function clientAdminRoutes(registry: ClientRegistry, grants: Grants): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/oauth/clients/:client_id',
      scope: 'admin',
      tag: TAG,
      summary: "Read a registered OAuth client and its live token families (never a secret, hash or token)",
      params: ClientParams,
      responses: { 200: { description: 'the client; token_families oldest first', schema: ClientDetailSchema }, 404: NOT_FOUND },
      async handler(c, { params }) {
        const client = await registry.get(params.client_id)
        if (!client) throw unknownClient(params.client_id)
        c.header('Cache-Control', 'no-store')
        return c.json({ ...client, token_families: (await grants.listClientFamilies(client.client_id)).map(familyView) })
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/oauth/clients/:client_id',
      scope: 'admin',
      tag: TAG,
      summary: 'Delete a registered OAuth client: its token families are revoked, then its registration removed',
      params: ClientParams,
      responses: { 204: { description: 'deleted; its refresh and access tokens stop working' }, 404: NOT_FOUND },
      async handler(c, { params }) {
        if (!(await registry.get(params.client_id))) throw unknownClient(params.client_id)
        // Tokens first: a failure in between leaves a client without tokens, never tokens without a client.
        await grants.revokeClientFamilies(params.client_id)
        if (!(await registry.delete(params.client_id))) throw unknownClient(params.client_id)
        return c.body(null, 204)
      },
    }),
  ]
}
