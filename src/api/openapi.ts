/** @module Builds the OpenAPI 3.1 document from the same RouteSpecs that are mounted. */
import { toJsonSchema } from '@valibot/to-json-schema'
import type * as v from 'valibot'
import { VERSION } from '../version.ts'
import type { RouteSpec } from './define-route.ts'

const convert = (schema: v.GenericSchema) => toJsonSchema(schema, { errorMode: 'ignore', typeMode: 'output' })

export function buildOpenApiDocument(routes: readonly RouteSpec[], serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    // Hono's `:name{regex}` becomes OpenAPI's `{name}`.
    const path = route.path.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, '{$1}')
    const paramSchemas = route.params ? propertiesOf(route.params).properties : {}
    const pathParams = [...route.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: paramSchemas[m[1]!] ?? { type: 'string' } }))
    const queryParams = route.query ? queryParameters(route.query) : []
    const responses: Record<string, unknown> = {}
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema ? { content: { 'application/json': { schema: convert(response.schema) } } } : {}),
      }
    }
    if (route.scope !== 'public') {
      responses['401'] = { description: 'missing, invalid or expired Bearer token' }
      responses['403'] = { description: `token lacks the ${route.scope} scope` }
    }
    paths[path] ??= {}
    paths[path][route.method] = {
      tags: [route.tag],
      summary: route.summary,
      ...(route.ownCredential ? { security: [{ [route.ownCredential]: [] }] } : route.scope === 'public' ? { security: [] } : { security: [{ bearerAuth: [route.scope] }], description: `Requires the \`${route.scope}\` scope (\`admin\` implies every scope).` }),
      ...(pathParams.length + queryParams.length > 0 ? { parameters: [...pathParams, ...queryParams] } : {}),
      ...(route.body ? { requestBody: { required: route.isBodyOptional !== true, content: { 'application/json': { schema: convert(route.body) } } } } : {}),
      responses,
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'oauth-https-proxy', version: VERSION, description: 'Management API: proxies, routes, certificates, services, OAuth and logs.' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        registrationAccessToken: { type: 'http', scheme: 'bearer', description: 'the registration_access_token returned by POST /register (RFC 7592 §3)' },
      },
    },
    paths,
  }
}

function propertiesOf(schema: v.GenericSchema): { properties: Record<string, unknown>; required: string[] } {
  const json = convert(schema) as { properties?: Record<string, unknown>; required?: string[] }
  return { properties: json.properties ?? {}, required: json.required ?? [] }
}

function queryParameters(schema: v.GenericSchema): Record<string, unknown>[] {
  const { properties, required } = propertiesOf(schema)
  return Object.entries(properties).map(([name, property]) => ({ name, in: 'query', required: required.includes(name), schema: property }))
}
