/**
 * @module A child process for the cross-process lock tests. It opens its own Store on the shared
 * backing store, waits until every worker is ready, then repeatedly takes the lock and, while holding
 * it, appends "<label> start" and "<label> end" to a log stream. The test checks the log for overlap.
 *
 * Usage: bun lock-worker.ts <embedded|redis> <dataDir|url> <namespace> <run> <label> <workers> <rounds>
 */
import { createEmbeddedStore } from '../../src/store/embedded.ts'
import { acquireLock } from '../../src/store/lock.ts'
import { createRedisStore } from '../../src/store/redis.ts'

const [kind, target, namespace, run, label, workers, rounds] = process.argv.slice(2) as [string, string, string, string, string, string, string]
const store = kind === 'redis' ? createRedisStore({ url: target, namespace }) : createEmbeddedStore({ dataDir: target })

// Start barrier: nobody takes the lock before every worker is up, so they really contend.
await store.put(`${run}/ready/${label}`, '1')
const deadline = Date.now() + 10_000
while ((await store.list(`${run}/ready/`)).length < Number(workers)) {
  if (Date.now() > deadline) throw new Error('workers never all became ready')
  await Bun.sleep(5)
}

for (let i = 0; i < Number(rounds); i++) {
  const lock = await acquireLock(store, `${run}-lock`, { ttlMs: 10_000, waitMs: 10_000, retryMs: 2 })
  // Constant timeMs: the log then orders entries purely by append order.
  await store.append(`${run}/log`, 1, `${label} start`)
  await Bun.sleep(3)
  await store.append(`${run}/log`, 1, `${label} end`)
  await lock.release()
  await Bun.sleep(1)
}
await store.close()
