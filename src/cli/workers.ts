/**
 * @module `serve --workers N`: the primary process. It serves nothing itself: it starts N workers (this
 * same program, `serve` with the same arguments, marked by WORKER_ENV), each a whole server whose public
 * listeners and API share their ports through SO_REUSEPORT, so the kernel spreads connections over them.
 * On the embedded store it passes every worker's events to all of them (the store's file is shared; its
 * in-process bus is not). A worker that dies is started again after a back-off while the others serve;
 * SIGTERM, SIGINT or SIGHUP is passed on (as SIGTERM) to every worker, which drains, and the primary
 * exits once they all have.
 */
import type { Subprocess } from 'bun'
import type { Config } from '../config/index.ts'
import type { Logger } from '../lib/index.ts'
import { releaseStopSignals } from '../stop-latch.ts'
import { WORKER_ENV } from './worker-link.ts'

/** The first restart of a worker that died waits this long, each further one twice as long as the last. */
const RESTART_BACKOFF_FIRST_MS = 250
const RESTART_BACKOFF_MAX_MS = 30_000
/** A worker that served this long before it died starts the back-off from the beginning again. */
const STABLE_AFTER_MS = 30_000
/** After the drain, how long the primary waits for a worker to exit before it kills it. */
const EXIT_GRACE_MS = 5_000
/** Each starts the drain (of the one process, or of every worker); a repeated one never ends it early. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const

interface Worker {
  readonly index: number
  proc: Subprocess | null
  startedAtMs: number
  isReady: boolean
  /** Deaths in a row, each within STABLE_AFTER_MS of its start. */
  failures: number
  restartTimer: Timer | null
}

/** Runs the workers until a signal stops them; resolves with the primary's exit code. */
export async function superviseWorkers(config: Config, logger: Logger): Promise<number> {
  const workers = Array.from({ length: config.workers }, (_, i): Worker => ({ index: i + 1, proc: null, startedAtMs: 0, isReady: false, failures: 0, restartTimer: null }))
  const command = ownCommand()
  let isStopping = false
  let hasStarted = false
  let resolveDone: (code: number) => void = () => {}
  const done = new Promise<number>((resolve) => (resolveDone = resolve))
  let exitCode = 0

  /** Every event a worker publishes goes to all of them, the publisher included (channel-bus.ts). */
  const relay = (message: unknown) => {
    if ((message as { type?: unknown } | null)?.type !== 'event') return
    for (const worker of workers) {
      try {
        worker.proc?.send(message)
      } catch {
        // That worker is exiting: it reconciles with the store when it starts again.
      }
    }
  }

  const start = (worker: Worker) => {
    worker.restartTimer = null
    worker.isReady = false
    worker.startedAtMs = performance.now()
    const proc = Bun.spawn(command, {
      env: { ...process.env, [WORKER_ENV]: String(worker.index) },
      stdio: ['ignore', 'inherit', 'inherit'],
      serialization: 'json',
      ipc(message) {
        if ((message as { type?: unknown } | null)?.type === 'ready') return onReady(worker)
        relay(message)
      },
      onExit: (_proc, code, signal) => onExit(worker, code, signal),
    })
    worker.proc = proc
    logger.info('worker started', { worker: worker.index, pid: proc.pid })
  }

  const onReady = (worker: Worker) => {
    worker.isReady = true
    if (!hasStarted && workers.every((each) => each.isReady)) {
      hasStarted = true
      logger.info('serving with workers', { workers: workers.length, pids: workers.map((each) => each.proc?.pid ?? 0).join(',') })
    }
  }

  const onExit = (worker: Worker, code: number | null, signal: number | string | null) => {
    worker.proc = null
    if (isStopping) {
      // Killed by our own SIGTERM before it could listen for it (still loading): it served nothing, a clean stop.
      const stoppedBeforeReady = !worker.isReady && signal === 'SIGTERM'
      if (code !== 0 && !stoppedBeforeReady) exitCode = 1
      if (workers.every((each) => each.proc === null)) resolveDone(exitCode)
      return
    }
    // One that cannot start at all (a port another program holds) would fail again: start-up fails as with one process.
    if (!hasStarted && !worker.isReady) {
      logger.error('a worker failed to start; stopping', { worker: worker.index, code, signal })
      return stopAll(true)
    }
    const livedMs = performance.now() - worker.startedAtMs
    worker.failures = livedMs >= STABLE_AFTER_MS ? 0 : worker.failures + 1
    const delayMs = Math.min(RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_FIRST_MS * 2 ** Math.max(0, worker.failures - 1))
    logger.warn('worker exited; starting it again', { worker: worker.index, code, signal, restart_in_ms: delayMs })
    worker.restartTimer = setTimeout(() => start(worker), delayMs)
  }

  /** Stops every worker (each drains); the exit code is 1 if start-up failed or a worker did not stop cleanly. */
  const stopAll = (isFailure = false) => {
    if (isFailure) exitCode = 1
    if (isStopping) return
    isStopping = true
    for (const worker of workers) if (worker.restartTimer) clearTimeout(worker.restartTimer)
    const running = workers.filter((worker) => worker.proc !== null)
    if (running.length === 0) return resolveDone(exitCode)
    for (const worker of running) worker.proc?.kill('SIGTERM')
    // Each worker exits within its drain; one that does not is killed rather than waited for forever.
    setTimeout(() => {
      for (const worker of workers) worker.proc?.kill('SIGKILL')
    }, config.shutdownDrainSec * 1000 + EXIT_GRACE_MS).unref()
  }

  // `on`, not `once`: a second Ctrl-C must not kill the primary and leave its workers behind; nor may
  // SIGHUP, whose default would end the primary at once while its orphaned workers still drain.
  for (const signal of STOP_SIGNALS) process.on(signal, () => stopAll())
  for (const worker of workers) start(worker)
  // A signal held while the modules loaded (src/main.ts): the workers just started stop at once, cleanly.
  if (releaseStopSignals()) stopAll()
  return done
}

/**
 * How to run this program again: the compiled executable takes its arguments directly (its argv[1] is
 * its embedded entry, /$bunfs/...); under `bun`, the script and bun's own flags come first.
 */
function ownCommand(): string[] {
  const [, entry = '', ...args] = process.argv
  return entry.startsWith('/$bunfs/') ? [process.execPath, ...args] : [process.execPath, ...process.execArgv, entry, ...args]
}
