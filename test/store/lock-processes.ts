/**
 * @module Runs lock-worker.ts in several OS processes against one backing store and checks, from the
 * log they wrote while holding the lock, that no two of them ever held it at the same time.
 */
import { expect } from 'bun:test'
import { join } from 'node:path'
import { randomToken } from '../../src/lib/index.ts'
import type { Store } from '../../src/store/store.ts'

const WORKER = join(import.meta.dir, 'lock-worker.ts')

export async function expectLockExclusiveAcrossProcesses(
  observer: Store,
  target: { kind: 'embedded'; dataDir: string } | { kind: 'redis'; url: string; namespace: string },
  { workers = 2, rounds = 25 } = {},
): Promise<void> {
  const run = `proc${randomToken(6)}`
  const location = target.kind === 'redis' ? target.url : target.dataDir
  const namespace = target.kind === 'redis' ? target.namespace : ''
  const labels = Array.from({ length: workers }, (_, i) => `w${i}`)
  const procs = labels.map((label) =>
    Bun.spawn([process.execPath, WORKER, target.kind, location, namespace, run, label, String(workers), String(rounds)], {
      stdout: 'pipe',
      stderr: 'pipe',
    }),
  )
  const results = await Promise.all(
    procs.map(async (proc) => ({ code: await proc.exited, stderr: await new Response(proc.stderr).text() })),
  )
  for (const result of results) expect(result).toEqual({ code: 0, stderr: expect.any(String) })

  const entries = (await observer.query(`${run}/log`, { order: 'oldest', limit: 10_000 })).map((entry) => entry.data)
  expect(entries).toHaveLength(workers * rounds * 2)
  // Every "start" must be followed directly by the same worker's "end".
  let switches = 0
  for (let i = 0; i < entries.length; i += 2) {
    const [label, phase] = entries[i]!.split(' ')
    expect(phase).toBe('start')
    expect(entries[i + 1]).toBe(`${label} end`)
    if (i > 0 && entries[i - 1]!.split(' ')[0] !== label) switches++
  }
  // The workers took turns many times, so the lock really was contended throughout.
  expect(switches).toBeGreaterThanOrEqual(2)
  for (const label of labels) expect(entries.filter((e) => e === `${label} start`)).toHaveLength(rounds)
}
