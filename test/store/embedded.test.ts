import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createManualClock } from '../../src/lib/index.ts'
import { createEmbeddedStore } from '../../src/store/embedded.ts'
import { LOG_FILE } from '../../src/store/log-chunks.ts'
import { StoreUnavailableError, type Store } from '../../src/store/store.ts'
import { waitFor } from '../support/ports.ts'
import { storeContract } from './contract.ts'
import { expectLockExclusiveAcrossProcesses } from './lock-processes.ts'

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ohp-store-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

storeContract('embedded (two connections to one SQLite file)', async () => {
  const dataDir = tempDir()
  const store = createEmbeddedStore({ dataDir })
  const second = createEmbeddedStore({ dataDir })
  return {
    store,
    second: () => second,
    dispose: async () => {
      await store.close()
      await second.close()
    },
  }
})

storeContract('embedded (:memory:)', async () => {
  const store = createEmbeddedStore({ dataDir: ':memory:' })
  return { store, second: () => store, dispose: () => store.close() }
})

describe('embedded store', () => {
  test('documents, versions and logs survive closing and reopening the file', async () => {
    const dataDir = tempDir()
    const first = createEmbeddedStore({ dataDir })
    const version = (await first.put('persist/doc', 'kept'))!
    await first.append('persist/log', 10, 'entry')
    await first.close()
    const reopened = createEmbeddedStore({ dataDir })
    try {
      expect(await reopened.get('persist/doc')).toEqual({ value: 'kept', version })
      expect((await reopened.query('persist/log')).map((e) => e.data)).toEqual(['entry'])
      // The version counter is persistent too: no version is handed out twice.
      expect((await reopened.put('persist/other', 'x'))!).toBeGreaterThan(version)
    } finally {
      await reopened.close()
    }
  })

  test('TTLs follow the injected clock, and the sweeper removes expired rows', async () => {
    const clock = createManualClock()
    const dataDir = tempDir()
    const store = createEmbeddedStore({ dataDir, clock, sweepIntervalMs: 10 })
    // A second connection with a clock that never reaches the expiry sees rows until they are swept.
    const frozen = createEmbeddedStore({ dataDir, clock: createManualClock(clock.nowMs()) })
    try {
      const version = await store.put('ttl/doc', 'v', { ttlMs: 1_000 })
      clock.advanceMs(999)
      expect(await store.get('ttl/doc')).toEqual({ value: 'v', version: version! })
      clock.advanceMs(1)
      expect(await store.get('ttl/doc')).toBeNull()
      expect(await store.list('ttl/')).toEqual([])
      await waitFor(async () => (await frozen.get('ttl/doc')) === null, { timeoutMs: 3_000, what: 'sweep' })
    } finally {
      await store.close()
      await frozen.close()
    }
  })

  test('close releases the SQLite connection, and a closed store rejects with StoreUnavailableError', async () => {
    const dataDir = tempDir()
    const store: Store = createEmbeddedStore({ dataDir })
    await store.put('k', 'v')
    expect(readdirSync(dataDir)).toContain('store.sqlite-wal')
    await store.close()
    // SQLite checkpoints and removes the WAL when the last connection really closes.
    expect(readdirSync(dataDir).sort()).toEqual([LOG_FILE, 'store.sqlite'].sort())
    await store.close()
    for (const operation of [() => store.get('k'), () => store.put('k', 'v'), () => store.ping(), () => store.query('s'), () => store.appendMany('s', [{ timeMs: 1, data: 'x' }]), () => store.tail('s'), () => store.trimToCount('s', 1)]) {
      expect(await operation().catch((e: unknown) => e)).toBeInstanceOf(StoreUnavailableError)
    }
  })

  test('a lock over one SQLite file is never held by two OS processes at once', async () => {
    const dataDir = tempDir()
    const observer = createEmbeddedStore({ dataDir })
    try {
      await expectLockExclusiveAcrossProcesses(observer, { kind: 'embedded', dataDir })
    } finally {
      await observer.close()
    }
  })
})
