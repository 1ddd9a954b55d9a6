/**
 * @module The admin view of one registered OAuth client: GET /oauth/clients/{client_id} (the client,
 * never a secret or hash, with its live token families), PATCH (the admin's own flag: resource_server)
 * and DELETE /oauth/clients/{client_id} (the registration goes, and every token family it holds is
 * revoked first, so no token outlives it).
 */
import * as v from 'valibot'
import { ClientIdSchema, type ClientRegistry, type Grants } from '../../oauth/index.ts'
import { defineRoute, type RouteSpec } from '../define-route.ts'
import { ApiError } from '../errors.ts'
import { AdminClientSchema, adminClientView } from './client-views.ts'
import { FamilySchema, familyView } from './tokens-admin.ts'

const TAG = 'oauth'
const ClientParams = v.object({ client_id: ClientIdSchema })
const ClientDetailSchema = v.object({ ...AdminClientSchema.entries, token_families: v.array(FamilySchema) })
/** What an admin may change here; the client's metadata is its own (RFC 7592 PUT /register/{id}). */
const ClientPatchSchema = v.strictObject({ resource_server: v.boolean('expected true or false') }, 'unknown field')
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
        return c.json({ ...adminClientView(client), token_families: (await grants.listClientFamilies(client.client_id)).map(familyView) })
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/oauth/clients/:client_id',
      scope: 'admin',
      tag: TAG,
      summary: "Mark a client as a resource server (RFC 7662: introspection answers it about every client's tokens), or unmark it",
      params: ClientParams,
      body: ClientPatchSchema,
      responses: {
        200: { description: 'the client as GET shows it, without its token families', schema: AdminClientSchema },
        404: NOT_FOUND,
        409: { description: 'a public client cannot be a resource server: it cannot authenticate to the introspection endpoint (RFC 7662 §2.1)' },
      },
      async handler(c, { params, body }) {
        const client = await registry.get(params.client_id)
        if (!client) throw unknownClient(params.client_id)
        if (body.resource_server && client.token_endpoint_auth_method === 'none') {
          throw new ApiError(409, 'conflict', 'resource_server: a public client (token_endpoint_auth_method "none") cannot introspect (RFC 7662 §2.1); register a confidential client for the resource server')
        }
        const updated = await registry.setResourceServer(params.client_id, body.resource_server)
        if (!updated) throw unknownClient(params.client_id)
        c.header('Cache-Control', 'no-store')
        return c.json(adminClientView(updated))
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
