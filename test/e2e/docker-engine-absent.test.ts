/**
 * DOCKER_SERVICES (#14): a server whose engine does not answer still starts (and serves its proxies);
 * Docker services are unavailable (503) until the engine answers. DOCKER_SERVICES=false never contacts it.
 */
import { expect, test } from 'bun:test'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestEdge } from '../support/edge.ts'
import { httpdService } from '../docker/manager-fixture.ts'

const NO_ENGINE = `unix://${join(tmpdir(), `ohp-no-engine-${process.pid}.sock`)}`

test('no engine at DOCKER_HOST: the server starts at once, proxies serve, Docker services are unavailable and reads come from the store', async () => {
  const started = Date.now()
  const edge = await startTestEdge({ DOCKER_HOST: NO_ENGINE })
  try {
    // Start-up does not wait for the engine (a ping times out after 5 s; the socket is simply absent here).
    expect(Date.now() - started).toBeLessThan(5_000)
    const docker = edge.server.dockerServices!
    expect(await docker.list()).toEqual([])
    await expect(docker.create(httpdService('absent'), null)).rejects.toMatchObject({ kind: 'unavailable' })
    await expect(docker.cleanup()).rejects.toMatchObject({ kind: 'unavailable' })
    expect(docker.urlOf('absent')).toBeUndefined()
    const backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('up') })
    try {
      await edge.createProxy('plain.test', `http://127.0.0.1:${backend.port}`)
      const response = await fetch(`http://127.0.0.1:${edge.httpPort}/`, { headers: { host: 'plain.test' } })
      expect(await response.text()).toBe('up')
    } finally {
      backend.stop(true)
    }
  } finally {
    await edge.stop()
  }
})

test('DOCKER_SERVICES=false: no manager at all (the API answers 503); service:// names external services, which have no ports', async () => {
  const edge = await startTestEdge({ DOCKER_SERVICES: 'false', DOCKER_HOST: NO_ENGINE })
  const backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('external') })
  try {
    expect(edge.server.dockerServices).toBeNull()
    expect((await edge.api('POST', '/services/external', { service_name: 'ext', target_url: `http://127.0.0.1:${backend.port}` })).status).toBe(201)
    await edge.createProxy('ext.test', 'service://ext')
    expect(await (await fetch(`http://127.0.0.1:${edge.httpPort}/`, { headers: { host: 'ext.test' } })).text()).toBe('external')
    const route = await edge.api('POST', '/routes', { path_pattern: '/p', target_type: 'service', target_value: 'ext:http' })
    expect(route.status).toBe(400)
    expect(await route.json()).toMatchObject({ error: 'invalid_request', error_description: 'field target_value: no service ext:http' })
  } finally {
    backend.stop(true)
    await edge.stop()
  }
})
