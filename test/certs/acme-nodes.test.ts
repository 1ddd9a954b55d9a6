/**
 * Two nodes on one Redis (store and event stream), each its own process with its own manager: a name is
 * ordered once (Pebble counts the orders) however many nodes ask, and every node serves the result and
 * hears certificate_ready. A second Pebble rejecting three times its default share of nonces shows that a
 * rejected nonce (RFC 8555 §6.5) costs a retry, never an order.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createChallengeStore, type CertificateView } from '../../src/certs/index.ts'
import { createMemoryBus } from '../../src/events/index.ts'
import { createLogger } from '../../src/lib/index.ts'
import { createRedisStore, type Store } from '../../src/store/index.ts'
import { FAST_TIMING, startCertNode, type CertNode } from '../support/cert-node.ts'
import { startChallengeResponder, type ChallengeResponder } from '../support/challenge-responder.ts'
import { startPebble, verifyChain, type TestPebble } from '../support/pebble.ts'
import { waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'

const NAMESPACE = 'certs-nodes:'
let redis: TestRedis
let store: Store
let responder: ChallengeResponder
let pebble: TestPebble
let nodes: CertNode[] = []

function startNode(nodeId: string, ca: TestPebble): Promise<CertNode> {
  return startCertNode({
    caCertPath: ca.caCertPath,
    config: {
      nodeId,
      store: { kind: 'redis', url: redis.url, namespace: NAMESPACE },
      timing: FAST_TIMING,
      manager: { productionDirectoryUrl: ca.directoryUrl, stagingDirectoryUrl: ca.altDirectoryUrl, defaultEmail: null, renewCheckIntervalMs: 3_600_000, renewalThresholdDays: 30 },
    },
  })
}

beforeAll(async () => {
  redis = await startRedis()
  store = createRedisStore({ url: redis.url, namespace: NAMESPACE })
  responder = startChallengeResponder(createChallengeStore(store, createMemoryBus(createLogger('silent'))))
  pebble = await startPebble({ httpPort: responder.port })
  nodes = await Promise.all([startNode('node-a', pebble), startNode('node-b', pebble)])
})

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop()))
  await pebble?.stop()
  responder?.stop()
  await store?.close()
  await redis?.dispose()
})

async function issuedOn(node: CertNode, name: string): Promise<CertificateView> {
  return waitFor(
    async () => {
      const view = await node.manager.get(name)
      if (view?.status === 'failed') throw new Error(`${name} failed: ${view.error}`)
      return view?.status === 'issued' ? view : null
    },
    { what: `${name} issued`, timeoutMs: 20_000, intervalMs: 50 },
  )
}

const ordersStarted = (name: string) => nodes.flatMap((node) => node.logs()).filter((line) => line.msg === 'certificate order started' && line.cert_name === name).length
const pebbleOrders = (ca: TestPebble) => (ca.log().match(/Added order "/g) ?? []).length

describe('two nodes, one store', () => {
  test('both ask for the same name at once: one order at the CA, both serve it, both hear certificate_ready', async () => {
    const [a, b] = nodes as [CertNode, CertNode]
    const before = pebbleOrders(pebble)
    await Promise.all([
      a.manager.request({ cert_name: 'shared', domains: ['shared.test'] }, 'alice'),
      b.manager.request({ cert_name: 'shared', domains: ['shared.test'] }, 'bob'),
      a.manager.request({ cert_name: 'shared', domains: ['shared.test'] }, 'alice'),
    ])
    const [onA, onB] = await Promise.all([issuedOn(a, 'shared'), issuedOn(b, 'shared')])
    expect(onB).toEqual(onA)
    expect(pebbleOrders(pebble)).toBe(before + 1)
    expect(ordersStarted('shared')).toBe(1)
    await verifyChain((await b.manager.chainPem('shared'))!, await pebble.issuingRootPem(), ['shared.test'])

    const [servedA, servedB] = await Promise.all([a.manager.servedFor('shared', 'shared.test'), b.manager.servedFor('shared', 'shared.test')])
    expect(servedA).not.toBeNull()
    expect(servedB).toEqual(servedA)
    for (const node of nodes) {
      await waitFor(() => node.events().some((event) => event.type === 'certificate_ready' && event.certName === 'shared'), { what: 'certificate_ready on every node' })
    }
  }, 30_000)

  test('every node calls ensureForProxy for the same proxy, repeatedly: one order', async () => {
    const proxy = { proxy_hostname: 'edge.test', cert_name: null, enable_https: true }
    const before = pebbleOrders(pebble)
    await Promise.all(nodes.flatMap((node) => [node.manager.ensureForProxy(proxy), node.manager.ensureForProxy(proxy), node.manager.ensureForProxy(proxy)]))
    const issued = await issuedOn(nodes[1]!, 'edge.test')
    await Promise.all(nodes.map((node) => node.manager.ensureForProxy(proxy)))
    expect(issued.staging).toBe(true)
    expect(pebbleOrders(pebble)).toBe(before + 1)
    expect(ordersStarted('edge.test')).toBe(1)
    expect((await nodes[0]!.manager.servedFor('edge.test', 'edge.test'))?.version).toBe(`edge.test@${issued.serial}`)
  }, 30_000)

  test('a removal on one node is seen by the other', async () => {
    await nodes[0]!.manager.remove('shared')
    expect(await nodes[1]!.manager.get('shared')).toBeNull()
    expect(await nodes[1]!.manager.servedFor('shared', 'shared.test')).toBeNull()
    await waitFor(() => nodes[1]!.events().some((event) => event.type === 'certificate_deleted' && event.certName === 'shared'), { what: 'certificate_deleted on the other node' })
  })

  test('no node logged or announced key material', () => {
    for (const node of nodes) {
      expect(node.output()).not.toContain('PRIVATE KEY')
      expect(JSON.stringify(node.events())).not.toContain('PRIVATE KEY')
    }
  })
})

describe('nonce rejection', () => {
  test('a CA that rejects 15 % of nonces (three times Pebble’s default) still issues every order', async () => {
    const strictResponder = startChallengeResponder(createChallengeStore(store, createMemoryBus(createLogger('silent'))))
    const strict = await startPebble({ httpPort: strictResponder.port, env: { PEBBLE_WFE_NONCEREJECT: '15' } })
    const node = await startNode('node-nonce', strict)
    try {
      expect(strict.log()).toContain('Configured to reject 15% of good nonces')
      // Batches of four orders at once, until the CA has rejected at least one nonce (about 40 signed
      // requests a batch: ~6 rejections expected, yet none in a batch happens a few times in a thousand).
      for (let batch = 0; batch < 4 && (batch === 0 || (await node.badNonceRetries()) === 0); batch++) {
        const names = [1, 2, 3, 4].map((n) => `nonce-${batch}-${n}`)
        await Promise.all(names.map((name) => node.manager.request({ cert_name: name, domains: [`${name}.test`] }, null)))
        for (const name of names) expect((await issuedOn(node, name)).attempts).toBe(0)
      }
      // The CA did reject nonces, and acme-client re-sent those requests.
      expect(await node.badNonceRetries()).toBeGreaterThan(0)
      // Four orders at once, one account key per (directory, email): the CA saw one account.
      expect(strict.log()).toContain('There are now 1 accounts in memory')
      expect(strict.log()).not.toContain('There are now 2 accounts in memory')
      expect(node.logs().filter((line) => line.msg === 'certificate order failed')).toEqual([])
    } finally {
      await node.stop()
      await strict.stop()
      strictResponder.stop()
    }
  }, 40_000)
})
