import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { freePort } from './ports.ts'

test('freePort gives loopback ports outside the ephemeral range (no outgoing connection can take one first), each of which a server can bind', async () => {
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number]
  for (let i = 0; i < 20; i++) {
    const port = await freePort()
    expect(port >= low && port <= high).toBe(false)
    const server = Bun.listen({ hostname: '127.0.0.1', port, socket: { data() {} } })
    expect(server.port).toBe(port)
    server.stop(true)
  }
})

test('ports asked for before any is bound are all different', async () => {
  const ports = await Promise.all(Array.from({ length: 1_000 }, () => freePort()))
  expect(new Set(ports).size).toBe(ports.length)
})
