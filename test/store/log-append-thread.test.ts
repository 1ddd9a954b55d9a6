/**
 * The embedded store writes a file's log entries on a thread of its own: what appendMany resolved is
 * committed (the main connection reads it at once), order is kept, other connections to the file see
 * it, retention's trims run there too, and close() ends the thread. The thread's scheduling policy.
 */
import { afterAll, expect, test } from 'bun:test'
import type { Subprocess } from 'bun'
import { Database } from 'bun:sqlite'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmbeddedStore } from '../../src/store/index.ts'
import { startLogAppendThread } from '../../src/store/log-append-thread.ts'
import { rowBatchOf } from '../../src/store/log-rows.ts'
import { LOG_FILE } from '../../src/store/log-chunks.ts'
import { STARVED_AFTER_MS } from '../../src/store/writer-scheduling.ts'

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
  const other = new Database(join(dir, LOG_FILE), { readonly: true })
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

test('retention runs on the writer thread, not on this one: the fallback is never called, and the file holds what is left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ohp-append-trim-'))
  const store = createEmbeddedStore({ dataDir: dir })
  await store.appendMany('requests', Array.from({ length: 3_000 }, (_, i) => ({ timeMs: 1_000 + i, data: `entry ${i}` })))
  const onThisThread = () => {
    throw new Error('written or trimmed on the main thread')
  }
  const thread = startLogAppendThread(join(dir, LOG_FILE), { chunks: onThisThread, rows: onThisThread, trim: onThisThread })
  try {
    // By count: the 1,000 newest stay; then by age, those before 2,500 ms go (entries 2,000-2,999 remain, 500 of them after).
    expect(await thread.trim('requests', 'count', 1_000)).toBe(2_000)
    expect(await thread.trim('requests', 'age', 3_500)).toBe(500)
    expect(await thread.trim('requests', 'count', 1_000)).toBe(0)
  } finally {
    await thread.close()
  }
  const left = await store.query('requests', { order: 'oldest', limit: 10_000 })
  expect(left.map((entry) => entry.data)).toEqual(Array.from({ length: 500 }, (_, i) => `entry ${2_500 + i}`))
  await store.close()
})

test('a trim still running when the thread closes stops at a step boundary and answers, instead of failing the caller', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ohp-append-trim-close-'))
  const store = createEmbeddedStore({ dataDir: dir })
  const count = 200_000
  await store.appendRows('requests', rowBatchOf(Array.from({ length: count }, (_, i) => i), 1, Array.from({ length: count }, (_, i) => i), 1, Array.from({ length: count }, (_, i) => `entry ${i}`)))
  const thread = startLogAppendThread(join(dir, LOG_FILE), { chunks: () => {}, rows: () => {}, trim: async () => 0 })
  const trimming = thread.trim('requests', 'count', 0)
  await thread.close()
  // Cut short it answers 0; had it finished first, every entry went. Either way it resolves, and what it deleted stays deleted.
  const removed = await trimming
  const left = (await store.query('requests', { limit: 10_000 })).length
  expect(removed === 0 || removed === count).toBe(true)
  if (removed === count) expect(left).toBe(0)
  await store.close()
})

test('without the thread (it stopped), trims run on this thread instead and answer the same', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ohp-append-trim-fallback-'))
  const store = createEmbeddedStore({ dataDir: dir })
  await store.appendMany('requests', Array.from({ length: 100 }, (_, i) => ({ timeMs: 1_000 + i, data: `entry ${i}` })))
  const trimmedHere: string[] = []
  const thread = startLogAppendThread(join(dir, LOG_FILE), {
    chunks: () => {},
    rows: () => {},
    trim: async (stream, kind, value) => {
      trimmedHere.push(`${stream} ${kind} ${value}`)
      return kind === 'count' ? store.trimToCount(stream, value) : store.trim(stream, value)
    },
  })
  await thread.close()
  expect(await thread.trim('requests', 'count', 40)).toBe(60)
  expect(trimmedHere).toEqual(['requests count 40'])
  await store.close()
})

/** This process's threads with their nice value and scheduling policy (/proc: fields 19 and 41 of each task's stat). */
function threads(): Map<string, { nice: number; policy: number }> {
  const found = new Map<string, { nice: number; policy: number }>()
  for (const task of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      found.set(task, { nice: Number(fields[16]), policy: Number(fields[38]) })
    } catch {
      // the thread ended
    }
  }
  return found
}

const SCHED_OTHER = 0
const SCHED_IDLE = 5

/** The threads started since `before` (by thread id: the writer threads of stores closed above may still be ending). */
const newThreads = (before: Map<string, unknown>) => [...threads()].filter(([id]) => !before.has(id)).map(([, scheduling]) => scheduling)

test.if(process.platform === 'linux')('the writer thread runs as SCHED_IDLE (with CAP_SYS_NICE, which lets it be moved out again), and this one keeps its priority', async () => {
  const before = threads()
  const store = createEmbeddedStore({ dataDir: mkdtempSync(join(tmpdir(), 'ohp-append-nice-')) })
  await store.appendMany('requests', [{ timeMs: 1, data: 'a' }])
  expect(newThreads(before).filter((thread) => thread.policy === SCHED_IDLE)).toHaveLength(1)
  expect(threads().get(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]!)).toEqual({ nice: 0, policy: SCHED_OTHER })
  await store.close()
})

/** Busy loops of the starvation test; stopped even if it times out (a leftover would slow every later test). */
const hogs: Subprocess[] = []
const stopHogs = () => {
  for (const hog of hogs.splice(0)) hog.kill()
}
afterAll(stopHogs)

test.if(process.platform === 'linux')('on a machine with no idle CPU, a batch that waits for the background writer moves it to nice 10, and every entry is written', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ohp-append-starved-'))
  const before = threads()
  const store = createEmbeddedStore({ dataDir })
  await store.appendMany('requests', [{ timeMs: 0, data: 'warm' }])
  // This store's writer, by thread id (those of the stores closed above may still be ending).
  const writerIds = [...threads()].filter(([id, scheduling]) => !before.has(id) && scheduling.policy === SCHED_IDLE).map(([id]) => id)
  expect(writerIds).toHaveLength(1)
  const writer = () => threads().get(writerIds[0]!)
  expect(writer()).toEqual({ nice: 10, policy: SCHED_IDLE })
  // Two busy loops a core, at this process's priority: the background writer gets no idle time.
  hogs.push(...Array.from({ length: navigator.hardwareConcurrency * 2 }, () => Bun.spawn(['sh', '-c', 'while :; do :; done'])))
  let written = 1
  let slowest = 0
  try {
    for (let batch = 0; batch < 6 && writer()?.policy === SCHED_IDLE; batch++) {
      // Made before the clock starts: only the time the batch spends with the writer thread is timed.
      const rows = rowBatchOf(Array.from({ length: 50_000 }, (_, i) => 1 + written + i), 1, Array.from({ length: 50_000 }, (_, i) => i), 1, Array.from({ length: 50_000 }, (_, i) => `entry ${written + i}`))
      const started = performance.now()
      await store.appendRows('requests', rows)
      written += 50_000
      slowest = Math.max(slowest, performance.now() - started)
    }
    // A batch that waited past STARVED_AFTER_MS (with a margin for the timer) must have moved the thread.
    if (slowest > STARVED_AFTER_MS + 100) expect(writer()).toEqual({ nice: 10, policy: SCHED_OTHER })
  } finally {
    stopHogs()
  }
  const other = new Database(join(dataDir, LOG_FILE), { readonly: true })
  expect((other.query('SELECT sum(entries) AS n FROM log_chunks').get() as { n: number }).n).toBe(written)
  other.close()
  await store.close()
}, 60_000)

test.if(process.platform === 'linux')('on a machine with no idle CPU, a trim running when the store closes still answers: the close moves the starved writer out of the background', async () => {
  const store = createEmbeddedStore({ dataDir: mkdtempSync(join(tmpdir(), 'ohp-append-starved-close-')) })
  const count = 200_000
  await store.appendRows('requests', rowBatchOf(Array.from({ length: count }, (_, i) => i), 1, Array.from({ length: count }, (_, i) => i), 1, Array.from({ length: count }, (_, i) => `entry ${i}`)))
  hogs.push(...Array.from({ length: navigator.hardwareConcurrency * 2 }, () => Bun.spawn(['sh', '-c', 'while :; do :; done'])))
  try {
    const trimming = store.trimToCount('requests', 0)
    await Bun.sleep(20)
    await store.close()
    // In SCHED_IDLE under busy loops the thread got next to no CPU: it did not end within the close's
    // 2 s, and the trim failed its caller with "the store is closed". Cut short it answers 0.
    const removed = await trimming
    expect(removed === 0 || removed === count).toBe(true)
  } finally {
    stopHogs()
  }
}, 60_000)

test.if(process.platform === 'linux' && process.getuid?.() === 0)('without CAP_SYS_NICE (a container without SYS_NICE) it could never leave SCHED_IDLE, so it runs at nice 10 from the start', async () => {
  // setpriv drops the capability from the bounding set: root's next program runs without it.
  const script = `
    import { createEmbeddedStore } from ${JSON.stringify(join(import.meta.dir, '../../src/store/index.ts'))}
    import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
    const store = createEmbeddedStore({ dataDir: mkdtempSync(${JSON.stringify(join(tmpdir(), 'ohp-append-capless-'))}) })
    await store.appendMany('requests', [{ timeMs: 1, data: 'a' }])
    const seen = readdirSync('/proc/self/task').map((task) => readFileSync('/proc/self/task/' + task + '/stat', 'utf8')).map((stat) => stat.slice(stat.lastIndexOf(')') + 2).split(' ')).map((fields) => fields[16] + '/' + fields[38])
    console.log(JSON.stringify(seen))
    await store.close()
  `
  const child = Bun.spawnSync(['setpriv', '--bounding-set=-sys_nice', '--inh-caps=-sys_nice', process.execPath, '-e', script], { stderr: 'pipe' })
  expect(child.stderr.toString()).toBe('')
  const seen = JSON.parse(child.stdout.toString()) as string[]
  expect(seen.filter((scheduling) => scheduling === '10/0')).toHaveLength(1)
  expect(seen.filter((scheduling) => scheduling.endsWith('/5'))).toHaveLength(0)
})
