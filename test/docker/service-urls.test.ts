/** What `service://name[:port]` of a Docker service resolves to (#14), from the manager's memory. */
import { expect, test } from 'bun:test'
import type { AllocatedPort } from '../../src/docker/index.ts'
import { createServiceUrls } from '../../src/docker/service-urls.ts'

const port = (fields: Partial<AllocatedPort> & Pick<AllocatedPort, 'name' | 'host_port'>): AllocatedPort => ({ container_port: 80, bind_address: '127.0.0.1', protocol: 'tcp', description: '', auto: true, ...fields })

test('the first tcp port, or the one named; a wildcard bind is dialled on loopback, IPv6 in brackets (RFC 3986 §3.2.2); udp is never a target', () => {
  const urls = createServiceUrls()
  urls.set({ service_name: 'web', ports: [port({ name: 'dns', host_port: 20053, protocol: 'udp' }), port({ name: 'http', host_port: 20080, bind_address: '0.0.0.0' }), port({ name: 'v6', host_port: 20443, bind_address: '::1' }), port({ name: 'any6', host_port: 20444, bind_address: '::' })] })
  expect(urls.urlOf('web')).toBe('http://127.0.0.1:20080')
  expect(urls.urlOf('web', 'v6')).toBe('http://[::1]:20443')
  expect(urls.urlOf('web', 'any6')).toBe('http://[::1]:20444')
  expect(urls.urlOf('web', 'dns')).toBeUndefined()
  expect(urls.urlOf('web', 'nope')).toBeUndefined()
  expect(urls.urlOf('other')).toBeUndefined()
  urls.set({ service_name: 'quiet', ports: [] })
  expect(urls.urlOf('quiet')).toBeUndefined()
})

test('a reload replaces what it read, but not a change made while it was reading (newer than its snapshot)', async () => {
  const urls = createServiceUrls()
  urls.set({ service_name: 'gone', ports: [port({ name: 'http', host_port: 1 })] })
  urls.set({ service_name: 'deleted-meanwhile', ports: [port({ name: 'http', host_port: 2 })] })
  await urls.reload(async () => {
    // While the store is read, this node creates one service and deletes another.
    urls.set({ service_name: 'created-meanwhile', ports: [port({ name: 'http', host_port: 3 })] })
    urls.delete('deleted-meanwhile')
    return [{ service_name: 'deleted-meanwhile', ports: [port({ name: 'http', host_port: 2 })] }, { service_name: 'stored', ports: [port({ name: 'http', host_port: 4 })] }]
  })
  expect(['gone', 'deleted-meanwhile', 'created-meanwhile', 'stored'].map((name) => urls.urlOf(name))).toEqual([undefined, undefined, 'http://127.0.0.1:3', 'http://127.0.0.1:4'])
  // The next reload applies the store again for every name.
  await urls.reload(async () => [])
  expect(urls.urlOf('created-meanwhile')).toBeUndefined()
})

test('SERVICE_NETWORK: the service by its alias and container port on the shared network (a server in a container has its own loopback)', () => {
  const urls = createServiceUrls({ network: 'oauth-https-proxy' })
  urls.set({ service_name: 'web', ports: [port({ name: 'dns', host_port: 20053, protocol: 'udp', container_port: 53 }), port({ name: 'http', host_port: 20080, container_port: 8080 }), port({ name: 'alt', host_port: 20081, container_port: 3000 })] })
  expect(urls.urlOf('web')).toBe('http://web:8080')
  expect(urls.urlOf('web', 'alt')).toBe('http://web:3000')
  expect(urls.urlOf('web', 'dns')).toBeUndefined()
})
