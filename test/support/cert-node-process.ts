/**
 * @module Entry point of one certificate-manager "node" for tests (spawned by cert-node.ts): the real
 * createCertificateManager on a real store and bus, driven over a loopback control port. It runs in its own
 * process because acme-client must trust Pebble's TLS certificate through NODE_EXTRA_CA_CERTS, which Bun
 * reads only at start-up. Events go to stdout as JSON lines; the manager's log lines go to stderr.
 *
 * Its clock is the system clock plus an offset the test may move forward (renewal tests). acme-client's
 * debug log is only counted (its badNonce retries, RFC 8555 §6.5), never printed.
 */
import { setLogger } from 'acme-client'
import { createCertificateManager, createChallengeStore, type CertificateManager } from '../../src/certs/index.ts'
import { createMemoryBus, createRedisBus } from '../../src/events/index.ts'
import { createLogger, type Clock } from '../../src/lib/index.ts'
import { createEmbeddedStore, createRedisStore } from '../../src/store/index.ts'
import type { CertNodeConfig } from './cert-node.ts'

let badNonceRetries = 0
setLogger((message: string) => {
  if (message.startsWith('Caught invalid nonce error')) badNonceRetries++
})
const config = JSON.parse(process.env.CERT_NODE_CONFIG ?? '') as CertNodeConfig
let offsetMs = 0
const clock: Clock = { nowMs: () => Date.now() + offsetMs }
const logger = createLogger('debug', (line) => void process.stderr.write(line))
const store = config.store.kind === 'redis' ? createRedisStore({ url: config.store.url, namespace: config.store.namespace }) : createEmbeddedStore({ dataDir: config.store.dataDir, clock })
const bus =
  config.store.kind === 'redis' ? createRedisBus({ url: config.store.url, namespace: config.store.namespace, nodeId: config.nodeId, logger, blockMs: 200 }) : createMemoryBus(logger)
bus.subscribe((event) => void process.stdout.write(`${JSON.stringify({ event })}\n`))
await bus.start()
const challenges = createChallengeStore(store, bus)
const manager = createCertificateManager({ store, bus, clock, logger, challenges, nodeId: config.nodeId, config: config.manager, timing: config.timing })

const control = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    const { method, args } = (await request.json()) as { method: string; args: unknown[] }
    try {
      if (method === 'advanceClockMs') {
        offsetMs += Number(args[0])
        return Response.json({ result: null })
      }
      if (method === 'badNonceRetries') return Response.json({ result: badNonceRetries })
      const fn = manager[method as keyof CertificateManager] as (...a: unknown[]) => Promise<unknown>
      if (typeof fn !== 'function') throw new Error(`no method ${method}`)
      const result = await fn(...args)
      return Response.json({ result: result ?? null })
    } catch (error) {
      const e = error as Error & { kind?: string; field?: string }
      return Response.json({ error: { name: e.name, kind: e.kind, field: e.field, message: e.message } })
    }
  },
})
process.stdout.write(`${JSON.stringify({ ready: control.port })}\n`)

process.on('SIGTERM', async () => {
  await manager.stop()
  await bus.stop()
  control.stop(true)
  await store.close()
  process.exit(0)
})
