/**
 * The embedded store writes a file's log entries on a thread of its own: what appendMany resolved is
 * committed (the main connection reads it at once), order is kept, other connections to the file see
 * it, and close() ends the thread.
 */
import { expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmbeddedStore } from '../../src/store/index.ts'

test('entries appended on the thread are read back in order by the main connection and by another one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ohp-append-thread-'))
  const store = createEmbeddedStore({ dataDir: dir })
  const batches = Array.from({ length: 20 }, (_, batch) => Array.from({ length: 50 }, (_, i) => ({ timeMs: 1_000 + batch * 50 + i, data: `entry ${batch * 50 + i}` })))
  await Promise.all(batches.map((entries) => store.appendMany('requests', entries)))
  const read = await store.query('requests', { order: 'oldest', limit: 10_000 })
  expect(read.map((entry) => entry.data)).toEqual(batches.flat().map((entry) => entry.data))
  // Ids follow the order the batches were given in: the thread writes them one after another.
  const ids = read.map((entry) => Number(entry.id))
  expect(ids).toEqual([...ids].sort((a, b) => a - b))
  const other = new Database(join(dir, 'store.sqlite'), { readonly: true })
  expect((other.query('SELECT sum(entries) AS n FROM log_chunks').get() as { n: number }).n).toBe(1_000)
  other.close()
  await store.close()
})

test('an in-memory store has no other connection: it writes on its own thread, and the same contract holds', async () => {
  const store = createEmbeddedStore({ dataDir: ':memory:' })
  await store.appendMany('requests', [{ timeMs: 1, data: 'a' }, { timeMs: 2, data: 'b' }])
  expect((await store.query('requests', { order: 'oldest' })).map((entry) => entry.data)).toEqual(['a', 'b'])
  await store.close()
})

/** Ids of this process's threads at the given nice value (/proc: field 19 of each task's stat). */
function threadsAtNice(nice: number): Set<string> {
  const ids = new Set<string>()
  for (const task of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) === nice) ids.add(task)
    } catch {
      // the thread ended
    }
  }
  return ids
}

test.if(process.platform === 'linux')('the writer thread runs at nice 10, below the thread serving requests, and this one keeps its priority', async () => {
  // By thread id, not by count: the writer threads of the stores closed above may still be ending.
  const before = threadsAtNice(10)
  const store = createEmbeddedStore({ dataDir: mkdtempSync(join(tmpdir(), 'ohp-append-nice-')) })
  await store.appendMany('requests', [{ timeMs: 1, data: 'a' }])
  expect([...threadsAtNice(10)].filter((id) => !before.has(id))).toHaveLength(1)
  expect(Number(readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ')[16])).toBe(0)
  await store.close()
})
