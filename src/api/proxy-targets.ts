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
import { defineRoute, type RouteSpec } from './define-route.ts'
import { ApiError } from './errors.ts'

const HostnameParam = v.object({ hostname: HostnameSchema })

export function hostnameOf(param: string): string {
  const result = v.safeParse(HostnameParam, { hostname: param })
  if (!result.success) throw new ApiError(400, 'invalid_request', `hostname: ${result.issues[0].message}`)
  return result.output.hostname
}

export async function mapTargetErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof TargetError) throw new ApiError(error.kind === 'conflict' ? 409 : 404, error.kind === 'conflict' ? 'conflict' : 'not_found', error.message)
    throw error
  }
}

export function proxyTargetRoutes(targets: ProxyTargets): RouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/proxy/targets',
      scope: 'admin',
      tag: 'proxies',
      summary: 'Create a proxy: a hostname and the backend its traffic goes to',
      body: CreateProxyTargetSchema,
      responses: { 201: { description: 'created', schema: ProxyTargetSchema }, 409: { description: 'the hostname already has a proxy' } },
      async handler(c, { body }) {
        const created = await mapTargetErrors(() => targets.create(body, c.get('principal').username))
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
      responses: { 200: { description: 'the proxy', schema: ProxyTargetSchema }, 404: { description: 'no such proxy' } },
      async handler(c) {
        const hostname = hostnameOf(c.req.param('hostname') ?? '')
        const target = await targets.get(hostname)
        if (!target) throw new ApiError(404, 'not_found', `no proxy for ${hostname}`)
        return c.json(target)
      },
    }),
    defineRoute({
      method: 'put',
      path: '/proxy/targets/:hostname',
      scope: 'admin',
      tag: 'proxies',
      summary: 'Change a proxy: every field given is applied, the next request uses it',
      body: UpdateProxyTargetSchema,
      responses: { 200: { description: 'the updated proxy', schema: ProxyTargetSchema }, 404: { description: 'no such proxy' } },
      handler: async (c, { body }) => c.json(await mapTargetErrors(() => targets.update(hostnameOf(c.req.param('hostname') ?? ''), body))),
    }),
    defineRoute({
      method: 'delete',
      path: '/proxy/targets/:hostname',
      scope: 'admin',
      tag: 'proxies',
      summary: 'Delete a proxy; its instances stop and its ports are freed',
      responses: { 204: { description: 'deleted' }, 404: { description: 'no such proxy' } },
      async handler(c) {
        await mapTargetErrors(() => targets.remove(hostnameOf(c.req.param('hostname') ?? '')))
        return c.body(null, 204)
      },
    }),
  ]
}
