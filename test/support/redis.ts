/**
 * @module A real redis-server on a random loopback port, owned by one test file. It can be stopped
 * and started again on the same port to test outages.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from './ports.ts'

export interface TestRedis {
  readonly url: string
  readonly port: number
  stop(): Promise<void>
  start(): Promise<void>
  /** Stops the server and removes its files. */
  dispose(): Promise<void>
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'ohp-redis-'))
  let proc: ReturnType<typeof Bun.spawn> | null = null

  const start = async () => {
    proc = Bun.spawn(
      ['redis-server', '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdout: 'ignore', stderr: 'inherit' },
    )
    await waitFor(() => ping(port), { what: `redis-server on ${port}` })
  }
  const stop = async () => {
    if (!proc) return
    proc.kill('SIGKILL')
    await proc.exited
    proc = null
  }
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    dispose: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function ping(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })
    socket.end()
    return true
  } catch {
    return false
  }
}
