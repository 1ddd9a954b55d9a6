/**
 * The connection caps (#13): the counters alone, then the listeners' connection core on a real socket,
 * where every place taken must be given back whichever way a connection ends (closed by the client,
 * reset, refused), or the caps would slowly fill with connections long gone.
 */
import { describe, expect, test } from 'bun:test'
import { connect, type Socket } from 'node:net'
import { addressKey, createConnectionCaps } from '../../src/edge/connection-caps.ts'
import { createConnectionCore, type Connection } from '../../src/edge/connection.ts'
import { createHandoff } from '../../src/edge/handoff.ts'
import { createHostTable } from '../../src/edge/host-table.ts'
import { httpListenerHandlers } from '../../src/edge/http-listener.ts'
import { createLogger, parseCidr } from '../../src/lib/index.ts'
import { createUpstreamPool, Deadlines, NO_REQUEST_LOG } from '../../src/proxy/index.ts'
import { waitFor } from '../support/ports.ts'

describe('createConnectionCaps', () => {
  test('per address: the cap is per key, a refusal is counted, a release frees exactly one place', () => {
    const caps = createConnectionCaps({ maxConnections: 100, maxConnectionsPerAddress: 2 })
    const a1 = caps.takeAddress('192.0.2.1')
    const a2 = caps.takeAddress('192.0.2.1')
    expect([a1, a2]).toEqual(['192.0.2.1', '192.0.2.1'])
    expect(caps.takeAddress('192.0.2.1')).toBeNull()
    expect(caps.takeAddress('192.0.2.2')).toBe('192.0.2.2')
    expect(caps.refused()).toEqual({ global: 0, per_address: 1 })
    caps.releaseAddress(a1!)
    expect(caps.takeAddress('192.0.2.1')).toBe('192.0.2.1')
    expect(caps.takeAddress('192.0.2.1')).toBeNull()
    expect(caps.refused()).toEqual({ global: 0, per_address: 2 })
    expect(caps.held()).toEqual({ total: 0, addresses: 2 })
  })

  test('global: full at maxConnections, a place again after a release; an address with no connection left is forgotten', () => {
    const caps = createConnectionCaps({ maxConnections: 2, maxConnectionsPerAddress: 10 })
    expect([caps.takeGlobal(), caps.takeGlobal(), caps.takeGlobal()]).toEqual([true, true, false])
    caps.releaseGlobal()
    expect(caps.takeGlobal()).toBe(true)
    expect(caps.refused()).toEqual({ global: 1, per_address: 0 })
    const key = caps.takeAddress('198.51.100.7')!
    caps.releaseAddress(key)
    expect(caps.held()).toEqual({ total: 2, addresses: 0 })
  })

  test('an IPv6 client counts by its /64 (RFC 4291 §2.5.4): rotating the interface identifier gains no places', () => {
    const caps = createConnectionCaps({ maxConnections: 100, maxConnectionsPerAddress: 2 })
    expect(caps.takeAddress('2001:db8:1:2::1')).not.toBeNull()
    expect(caps.takeAddress('2001:db8:1:2:ffff:ffff:ffff:ffff')).not.toBeNull()
    expect(caps.takeAddress('2001:0db8:0001:0002:abcd::9')).toBeNull()
    expect(caps.takeAddress('2001:db8:1:3::1')).not.toBeNull()
    expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:DB8:1:2:0:0:0:7'))
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'))
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9')
    // Text no parser takes (a zone index) is counted as itself rather than thrown on.
    expect(() => addressKey('fe80::1%eth0')).not.toThrow()
  })
})

describe('the connection core on a real listener', () => {
  function startCappedListener(maxConnections: number, maxConnectionsPerAddress: number) {
    const deadlines = new Deadlines()
    const logger = createLogger('silent')
    const core = createConnectionCore({
      routes: createHostTable(),
      handoff: createHandoff(),
      deadlines,
      trustedProxies: [parseCidr('127.0.0.1/32')!],
      relay: {
        tables: { lookup: () => undefined, siteOf: () => undefined, routes: () => { throw new Error('not reached') }, serviceUrl: () => undefined, httpsPort: () => 443, isListenerPort: () => false, challenge: () => undefined },
        gate: { check: () => { throw new Error('not reached') }, unprotected: () => null },
        logging: NO_REQUEST_LOG,
        pool: createUpstreamPool(),
        deadlines,
        timeouts: { headMs: 60_000, idleMs: 60_000, minBodyBytesPerSec: 0 },
        logger,
      },
      readDeadlineMs: 60_000,
      idleTimeoutMs: 60_000,
      maxPeekBytes: 16_384,
      limits: { maxConnections, maxConnectionsPerAddress },
      logger,
    })
    const listener = Bun.listen<Connection>({ hostname: '127.0.0.1', port: 0, socket: httpListenerHandlers(core) })
    return {
      core,
      port: listener.port,
      stop() {
        listener.stop(true)
        core.closeAll()
        deadlines.stop()
      },
    }
  }

  const open = (port: number, localAddress: string) =>
    new Promise<{ socket: Socket; closed: Promise<void> }>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, localAddress })
      socket.on('error', () => {})
      const closed = new Promise<void>((done) => socket.once('close', () => done()))
      socket.once('connect', () => resolve({ socket, closed }))
    })

  test('every place is given back, however the connection ended: a FIN, a reset, a refusal, a bad PROXY header, a LOCAL one', async () => {
    const listener = startCappedListener(8, 3)
    try {
      const clients = await Promise.all(['127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.3'].map((address) => open(listener.port, address)))
      await waitFor(() => listener.core.refused().per_address === 1, { what: 'the fourth from 127.0.0.2 refused' })
      await clients[3]!.closed
      // From the trusted balancer: one names a client over nobody's cap, one is LOCAL, one is no PROXY header at all.
      const balanced = await Promise.all([0, 1, 2].map(() => open(listener.port, '127.0.0.1')))
      balanced[0]!.socket.write('PROXY TCP4 192.0.2.50 127.0.0.1 1000 80\r\n')
      balanced[1]!.socket.write('PROXY UNKNOWN\r\n')
      balanced[2]!.socket.write('GET / HTTP/1.1\r\n\r\n')
      await balanced[2]!.closed
      await waitFor(() => listener.core.capsHeld().addresses === 3, { what: '127.0.0.2, 127.0.0.3 and 192.0.2.50 counted' })
      expect(listener.core.capsHeld()).toEqual({ total: 7, addresses: 3 })

      clients[0]!.socket.end()
      clients[1]!.socket.resetAndDestroy()
      clients[4]!.socket.destroy()
      await waitFor(() => listener.core.capsHeld().total === 4, { what: 'three places given back' })
      expect(listener.core.capsHeld().addresses).toBe(3)

      for (const client of [...clients, ...balanced]) client.socket.destroy()
      await waitFor(() => listener.core.capsHeld().total === 0, { what: 'every place given back' })
      expect(listener.core.capsHeld()).toEqual({ total: 0, addresses: 0 })
      expect(listener.core.refused()).toEqual({ global: 0, per_address: 1 })
    } finally {
      listener.stop()
    }
  })

  test('the global cap refuses the connection past it, whichever address it comes from', async () => {
    const listener = startCappedListener(2, 10)
    try {
      const clients = await Promise.all(['127.0.0.2', '127.0.0.3'].map((address) => open(listener.port, address)))
      const third = await open(listener.port, '127.0.0.4')
      await third.closed
      expect(listener.core.refused()).toEqual({ global: 1, per_address: 0 })
      // The third's address place was taken before the global cap refused it, and given back.
      await waitFor(() => listener.core.capsHeld().addresses === 2, { what: "the refused connection's address place given back" })
      for (const client of clients) client.socket.destroy()
      await waitFor(() => listener.core.capsHeld().total === 0, { what: 'every place given back' })
    } finally {
      listener.stop()
    }
  })
})
