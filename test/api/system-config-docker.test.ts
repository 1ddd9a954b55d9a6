/**
 * Configuration export and import with Docker services (#14): a proxy or route that names a Docker
 * service (service://name, service://name:port, a route to name:port) exports and imports again; a port
 * the service lacks is a 400 naming the field; an external service may not take a Docker service's name.
 * Docker services themselves are not in the document.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BUSYBOX_IMAGE, ensureBusyboxImage, HTTPD_PORT, removeTestContainers, requireDocker, TEST_LABELS } from '../support/docker.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

const FILE_LABEL = 'ohp-test.file=system-config-docker'
let edge: TestEdge

beforeAll(async () => {
  await requireDocker()
  await ensureBusyboxImage()
  edge = await startTestEdge()
  const created = await edge.api('POST', '/services', {
    service_name: 'cfg-web',
    image: BUSYBOX_IMAGE,
    command: ['sleep', '600'],
    memory_limit: '16m',
    labels: { ...TEST_LABELS, 'ohp-test.file': 'system-config-docker' },
    port_configs: [
      { name: 'http', container_port: HTTPD_PORT },
      { name: 'alt', container_port: 8081 },
    ],
  })
  if (created.status !== 201) throw new Error(`creating cfg-web: ${created.status} ${await created.text()}`)
  await edge.createProxy('cfg-web.example.com', 'service://cfg-web')
  await edge.createProxy('cfg-alt.example.com', 'service://cfg-web:alt')
  const route = await edge.api('POST', '/routes', { path_pattern: '/cfg-alt/', target_type: 'service', target_value: 'cfg-web:alt' })
  if (route.status !== 201) throw new Error(`creating the route: ${route.status} ${await route.text()}`)
}, 120_000)

afterAll(async () => {
  await edge?.api('DELETE', '/services/cfg-web?force=true').catch(() => {})
  await edge?.stop()
  await removeTestContainers(FILE_LABEL)
}, 60_000)

const exported = async () => (await (await edge.api('GET', '/system/config')).json()) as any
const importing = (document: unknown, query = '') => edge.api('POST', `/system/config${query}`, document)

describe('export and import with Docker services', () => {
  test('the export has no Docker services; importing it again (references to name, name:port, a route to name:port) changes nothing', async () => {
    const document = await exported()
    expect(document.services).toEqual({ external: [] })
    expect(document.proxies.map((proxy: any) => proxy.target_url).sort()).toEqual(['service://cfg-web', 'service://cfg-web:alt'])
    const response = await importing(document)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ changed: false, warnings: [] })
  })

  test('new references to a Docker service and its port import', async () => {
    const document = await exported()
    document.proxies.push({ ...document.proxies[0], proxy_hostname: 'cfg-new.example.com', target_url: 'service://cfg-web:http' })
    const response = await importing(document, '?dry_run=true')
    expect(response.status).toBe(200)
    expect(((await response.json()) as any).plan.proxies.create).toEqual(['cfg-new.example.com'])
  })

  test('a port the Docker service lacks, a port on a name that is no Docker service, and an external service taking its name: 400 naming each', async () => {
    const document = await exported()
    const index = document.proxies.findIndex((proxy: any) => proxy.proxy_hostname === 'cfg-alt.example.com')
    document.proxies[index].target_url = 'service://cfg-web:nope'
    document.routes[0].target_value = 'nowhere:alt'
    document.services.external.push({ service_name: 'cfg-web', target_url: 'http://127.0.0.1:1', description: '' })
    const response = await importing(document)
    expect(response.status).toBe(400)
    const description = ((await response.json()) as { error_description: string }).error_description
    expect(description).toContain(`proxies[${index}].target_url: Docker service cfg-web has no port nope (it has http, alt)`)
    expect(description).toContain('routes[0].target_value: no Docker service nowhere with a port alt on the server')
    expect(description).toContain('services.external[0].service_name: a Docker service named cfg-web exists')
  })
})
