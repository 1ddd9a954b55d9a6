/** The public listeners' default bind address: dual-stack `::`, or 0.0.0.0 where the host has no IPv6. */
import { afterEach, describe, expect, test } from 'bun:test'
import { resolveListenAddress } from '../../src/edge/index.ts'
import { createLogger, normalizeClientAddress } from '../../src/lib/index.ts'

function recordingLogger() {
  const lines: { level: string; msg: string }[] = []
  const logger = createLogger('debug', (line) => lines.push(JSON.parse(line)))
  return { logger, lines }
}

const listeners: { stop(closeActive?: boolean): void }[] = []
afterEach(() => {
  for (const listener of listeners.splice(0)) listener.stop(true)
})

describe('resolveListenAddress', () => {
  test('unset on this host (which has IPv6): dual-stack ::, nothing logged', () => {
    const { logger, lines } = recordingLogger()
    expect(resolveListenAddress(undefined, logger)).toBe('::')
    expect(lines).toEqual([])
  })

  test('unset on a host without IPv6: 0.0.0.0, and one log line that says why', () => {
    const { logger, lines } = recordingLogger()
    expect(resolveListenAddress(undefined, logger, () => false)).toBe('0.0.0.0')
    expect(lines).toHaveLength(1)
    expect(lines[0]!.level).toBe('info')
    expect(lines[0]!.msg).toContain('no IPv6')
    expect(lines[0]!.msg).toContain('LISTEN_ADDRESS')
  })

  test('an address the operator set is used as given, never replaced by the fallback', () => {
    const { logger, lines } = recordingLogger()
    for (const configured of ['::', '0.0.0.0', '127.0.0.1', '::1']) {
      expect(resolveListenAddress(configured, logger, () => false)).toBe(configured)
    }
    expect(lines).toEqual([])
  })
})

describe('a listener on :: (dual-stack) on this machine', () => {
  test('accepts an IPv4 client (127.0.0.1) and an IPv6 client (::1); the IPv4 one normalizes to plain IPv4', async () => {
    const seen: string[] = []
    let onOpen: () => void = () => {}
    const listener = Bun.listen({
      hostname: resolveListenAddress(undefined, recordingLogger().logger),
      port: 0,
      socket: {
        open(socket) {
          seen.push(socket.remoteAddress)
          socket.end()
          onOpen()
        },
        data() {},
      },
    })
    listeners.push(listener)
    for (const client of ['127.0.0.1', '::1']) {
      const opened = new Promise<void>((resolve) => (onOpen = resolve))
      const socket = await Bun.connect({ hostname: client, port: listener.port, socket: { data() {} } })
      await opened
      socket.end()
    }
    expect(seen).toEqual(['::ffff:127.0.0.1', '::1'])
    expect(seen.map(normalizeClientAddress)).toEqual(['127.0.0.1', '::1'])
  })
})
