/**
 * @module The soak run's Redis: a redis-server of its own on a free loopback port, with an append-only
 * file, so that a restart is a restart (SIGTERM: Redis flushes the file and exits; started again, it loads
 * it) and the server finds its proxies, certificates and tokens again. test/support/redis.ts keeps no data,
 * which is right for tests and wrong here.
 */
import { freePort, waitFor } from './net.ts'

export interface SoakRedis {
  readonly url: string
  /** SIGTERM, and wait until the process is gone. */
  stop(): Promise<void>
  /** Starts again on the same port and data; resolves once PING answers PONG (the file is loaded). */
  start(): Promise<void>
}

export async function startSoakRedis(dir: string): Promise<SoakRedis> {
  const port = await freePort()
  let proc: ReturnType<typeof Bun.spawn> | null = null
  const start = async () => {
    proc = Bun.spawn(
      ['redis-server', '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir, '--logfile', `${dir}/redis.log`],
      { stdin: 'ignore', stdout: 'ignore', stderr: 'inherit' },
    )
    await waitFor(() => answersPong(port), { what: `redis-server on ${port}`, timeoutMs: 30_000, intervalMs: 50 })
  }
  const stop = async () => {
    if (!proc) return
    proc.kill('SIGTERM')
    await proc.exited
    proc = null
  }
  await start()
  return { url: `redis://127.0.0.1:${port}`, start, stop }
}

/** PING on a fresh connection: +PONG once the data is loaded (-LOADING before). */
async function answersPong(port: number): Promise<boolean> {
  const { promise, resolve } = Promise.withResolvers<boolean>()
  const timer = setTimeout(() => resolve(false), 1_000)
  try {
    const socket = await Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        data: (_socket, bytes) => resolve(new TextDecoder().decode(bytes).startsWith('+PONG')),
        close: () => resolve(false),
        error: () => resolve(false),
      },
    })
    socket.write('PING\r\n')
    const answered = await promise
    socket.end()
    return answered
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}
