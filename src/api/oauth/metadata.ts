/**
 * @module RFC 8414 discovery: GET /.well-known/oauth-authorization-server, and its path-suffixed form
 * for an issuer with a path (§3.1). The document is for the issuer of the request's host; a host that
 * is no issuer of ours gets 404, as does a suffix that is not the issuer's path. Readable from any
 * origin, since the MCP Inspector and claude.ai discover from a browser page (peers-and-specs RS-09).
 */
import type { Context } from 'hono'
import * as v from 'valibot'
import { AS_METADATA_PATH, buildAuthorizationServerMetadata, issuerPath, type MetadataOverridesFor, type ResolveIssuer } from '../../oauth/index.ts'
import { allowAnyOrigin, corsPreflightRoute } from '../cors.ts'
import { defineRoute, type RouteSpec } from '../define-route.ts'
import { ApiError } from '../errors.ts'

const TAG = 'oauth'
/** Short: a proxy's overrides or a new host should show within minutes. */
const METADATA_MAX_AGE_SEC = 300
/** Hono: one or more path segments after the well-known name. */
const SUFFIXED_PATH = `${AS_METADATA_PATH}/:issuer_path{.+}`

export interface OAuthMetadataDeps {
  readonly resolveIssuer: ResolveIssuer
  /** The overrides of the proxy serving the issuer's host name; absent until proxies carry them. */
  readonly overridesFor?: MetadataOverridesFor
  /** False while OAUTH_REGISTRATION=closed: registration_endpoint is left out. Default true. */
  readonly offersRegistration?: boolean
}

const MetadataSchema = v.looseObject({
  issuer: v.string(),
  authorization_endpoint: v.string(),
  token_endpoint: v.string(),
  response_types_supported: v.array(v.string()),
})

export function oauthMetadataRoutes(deps: OAuthMetadataDeps): RouteSpec[] {
  async function serve(c: Context, requestedPath: string): Promise<Response> {
    allowAnyOrigin(c)
    const issuer = await deps.resolveIssuer(c.req.raw)
    // RFC 8414 §3.1: the suffix is the issuer's path, so a root request for a path issuer (or the
    // reverse) describes some other issuer. The same answer as for a foreign host: nothing here.
    if (issuer === null || issuerPath(issuer) !== requestedPath) {
      throw new ApiError(404, 'not_found', 'no authorization server metadata at this address')
    }
    const overrides = deps.overridesFor ? await deps.overridesFor(new URL(issuer).hostname) : null
    c.header('Cache-Control', `public, max-age=${METADATA_MAX_AGE_SEC}`)
    return c.json(buildAuthorizationServerMetadata(issuer, overrides, { offersRegistration: deps.offersRegistration !== false }))
  }

  const responses = {
    200: { description: 'RFC 8414 metadata for the issuer of this host', schema: MetadataSchema },
    404: { description: 'this host is not an issuer of this server' },
  }
  return [
    defineRoute({
      method: 'get',
      path: AS_METADATA_PATH,
      scope: 'public',
      tag: TAG,
      summary: 'Authorization server metadata (RFC 8414)',
      responses,
      handler: (c) => serve(c, ''),
    }),
    defineRoute({
      method: 'get',
      path: SUFFIXED_PATH,
      scope: 'public',
      tag: TAG,
      summary: 'Authorization server metadata for an issuer with a path (RFC 8414 §3.1)',
      responses,
      handler: (c) => serve(c, `/${c.req.param('issuer_path') ?? ''}`),
    }),
    corsPreflightRoute(AS_METADATA_PATH, ['GET'], TAG),
    corsPreflightRoute(SUFFIXED_PATH, ['GET'], TAG),
  ]
}
