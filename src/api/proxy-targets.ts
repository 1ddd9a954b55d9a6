/** @module /proxy/targets: create, read, update and delete proxies (admin writes, user reads). */
import * as v from 'valibot'
import {
  CreateProxyTargetSchema,
  HostnameSchema,
  ProxyTargetSchema,
  TargetError,
  UpdateProxyTargetSchema,
  type ProxyTargets,
} from '../targets/index.ts'
import { ForceQuerySchema, refuseIfDependents } from './dependents.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { queryFlag } from './query-flag.ts'

/** The `:hostname` of every /proxy/targets/{hostname} path. */
export const HostnameParams = v.object({ hostname: HostnameSchema })

export interface ProxyTargetRoutesDeps {
  /** The ids of the routes whose target is this proxy (target_type `hostname`). */
  readonly dependentsOfProxy: (hostname: string) => Promise<{ routes: string[] }>
  /** Deletes a certificate by name; false when there is none. */
  readonly deleteCertificate: (certName: string) => Promise<boolean>
}

const DeleteProxyQuerySchema = v.object({
  ...ForceQuerySchema.entries,
  /** The original's option: the proxy's certificate (its cert_name, or its hostname) goes with it. */
  delete_certificate: queryFlag(false),
})

export function proxyTargetRoutes(targets: ProxyTargets, deps: ProxyTargetRoutesDeps): RouteSpec[] {
  const existing = async (hostname: string) => {
    const target = await targets.get(hostname)
    if (!target) throw new TargetError('not_found', `no proxy for ${hostname}`)
    return target
  }

  return [
    defineRoute({
      method: 'post',
      path: '/proxy/targets',
      scope: 'admin',
      tag: 'proxies',
      summary: 'Create a proxy: a hostname and the backend its traffic goes to (an http(s) URL, or service://<name> for an external service)',
      body: CreateProxyTargetSchema,
      responses: { 201: { description: 'created', schema: ProxyTargetSchema }, 409: { description: 'the hostname already has a proxy' } },
      async handler(c, { body }) {
        const created = await targets.create(body, c.get('principal').username)
        c.header('Location', `/proxy/targets/${created.proxy_hostname}`)
        return c.json(created, 201)
      },
    }),
    defineRoute({
      method: 'get',
      path: '/proxy/targets',
      scope: 'user',
      tag: 'proxies',
      summary: 'List proxies',
      responses: { 200: { description: 'every proxy', schema: v.array(ProxyTargetSchema) } },
      handler: async (c) => c.json(await targets.list()),
    }),
    defineRoute({
      method: 'get',
      path: '/proxy/targets/:hostname',
      scope: 'user',
      tag: 'proxies',
      summary: 'Read one proxy',
      params: HostnameParams,
      responses: { 200: { description: 'the proxy', schema: ProxyTargetSchema }, 404: { description: 'no such proxy' } },
      handler: async (c, { params }) => c.json(await existing(params.hostname)),
    }),
    defineRoute({
      method: 'put',
      path: '/proxy/targets/:hostname',
      scope: 'admin',
      tag: 'proxies',
      summary: 'Change a proxy: every field given is applied, the next request uses it',
      params: HostnameParams,
      body: UpdateProxyTargetSchema,
      responses: { 200: { description: 'the updated proxy', schema: ProxyTargetSchema }, 404: { description: 'no such proxy' } },
      handler: async (c, { params, body }) => c.json(await targets.update(params.hostname, body)),
    }),
    defineRoute({
      method: 'delete',
      path: '/proxy/targets/:hostname',
      scope: 'admin',
      tag: 'proxies',
      summary:
        'Delete a proxy; its instances stop and its ports are freed. Refused (409, naming them) while routes target it, unless force=true: those routes are kept and answer 502 until they are changed. delete_certificate=true also deletes its certificate (its cert_name, or its hostname), which other proxies naming it then stop serving',
      params: HostnameParams,
      query: DeleteProxyQuerySchema,
      responses: { 204: { description: 'deleted' }, 404: { description: 'no such proxy' }, 409: { description: 'routes target this proxy (and force is not true)' } },
      async handler(c, { params, query }) {
        if (!query.force) {
          await existing(params.hostname)
          refuseIfDependents(`proxy ${params.hostname}`, await deps.dependentsOfProxy(params.hostname))
        }
        const target = query.delete_certificate ? await existing(params.hostname) : null
        await targets.remove(params.hostname)
        if (target) await deps.deleteCertificate(target.cert_name ?? target.proxy_hostname)
        return c.body(null, 204)
      },
    }),
  ]
}
