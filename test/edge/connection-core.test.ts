/**
 * The listeners' shared connection core: a socket the runtime reports as failed or closed before its
 * open handler ran (a peer that resets at once, as haproxy's health checks do) must not throw out of
 * the runtime's callback — that was an uncaught TypeError in the haproxy suite.
 */
import { expect, test } from 'bun:test'
import type { Socket } from 'bun'
import { createConnectionCore, type Connection } from '../../src/edge/connection.ts'
import { createHandoff } from '../../src/edge/handoff.ts'
import { createHostTable } from '../../src/edge/host-table.ts'
import { createLogger } from '../../src/lib/index.ts'
import { createUpstreamPool, Deadlines, NO_REQUEST_LOG } from '../../src/proxy/index.ts'

test('error and close before open are ignored, and nothing is counted as open', () => {
  const deadlines = new Deadlines()
  const logger = createLogger('silent')
  const core = createConnectionCore({
    routes: createHostTable(),
    handoff: createHandoff(),
    deadlines,
    trustedProxies: [],
    relay: {
      tables: { lookup: () => undefined, siteOf: () => undefined, routes: () => { throw new Error('not reached') }, serviceUrl: () => undefined, httpsPort: () => 443, isListenerPort: () => false, challenge: () => undefined },
      gate: { check: () => { throw new Error('not reached') }, unprotected: () => null },
      logging: NO_REQUEST_LOG,
      pool: createUpstreamPool(),
      deadlines,
      timeouts: { headMs: 1_000, idleMs: 1_000, minBodyBytesPerSec: 0 },
      logger,
    },
    readDeadlineMs: 1_000,
    idleTimeoutMs: 1_000,
    maxPeekBytes: 16_384,
    logger,
  })
  // What the runtime hands an error callback for a socket whose open never ran: no data yet.
  const unopened = { data: undefined, end() {}, terminate() {} } as unknown as Socket<Connection>
  expect(() => core.shared.error!(unopened, new Error('ECONNRESET'))).not.toThrow()
  expect(() => core.shared.close!(unopened, undefined)).not.toThrow()
  expect(core.count()).toBe(0)
  deadlines.stop()
})
