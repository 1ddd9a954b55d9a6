/**
 * @module `oauth-https-proxy serve`: boots the server and, on SIGTERM/SIGINT/SIGHUP, drains it (SHUTDOWN_DRAIN)
 * and exits 0. With WORKERS above 1 this process is the primary (workers.ts) and each worker runs this
 * same command (worker-link.ts).
 */
import { defineCommand } from 'citty'
import { legacyEnvWarnings, loadConfig } from '../config/index.ts'
import { createLogger } from '../lib/index.ts'
import { startServer } from '../server.ts'
import { releaseStopSignals } from '../stop-latch.ts'
import { EXIT } from './client/index.ts'
import { givenFlags, settingsArgs } from './settings-args.ts'
import { workerLink } from './worker-link.ts'
import { STOP_SIGNALS, superviseWorkers } from './workers.ts'

/** Past the drain, how long stopping may take (flushing the request log, closing the store) before the process exits regardless. */
const STOP_DEADLINE_AFTER_DRAIN_MS = 5_000

export const serveCommand = defineCommand({
  meta: { name: 'serve', description: 'Run the server (the default command). Every flag can also be set by its environment variable.\nExample: oauth-https-proxy serve --public-url https://api.example.com --data-dir /var/lib/oauth-https-proxy' },
  args: settingsArgs(),
  async run({ args }) {
    const loaded = loadConfig(process.env, givenFlags(args))
    const logger = createLogger(loaded.logLevel)
    const worker = workerLink(process.env)
    // A .env written for the original project: say what no longer applies rather than ignore it silently (once, not per worker).
    if (!worker) for (const warning of legacyEnvWarnings(process.env)) logger.warn(warning)
    if (!worker && loaded.workers > 1) process.exit(await superviseWorkers(loaded, logger.child('workers')))
    const config = worker ? worker.configFor(loaded) : loaded
    // Listen for signals before anything starts: a signal during start-up still means a clean stop.
    // `on`, not `once`: a second signal (Ctrl-C twice, a supervisor repeating SIGTERM, the SIGINT and the
    // primary's SIGTERM a worker gets from one Ctrl-C and then another) must not kill the drain half-way.
    // SIGHUP (the terminal or ssh session gone) stops the same way: its default would cut every request.
    let signalled = false
    const stopRequested = new Promise<void>((resolve) => {
      for (const signal of STOP_SIGNALS) {
        process.on(signal, () => {
          if (signalled) return logger.info('already shutting down; the drain goes on', { signal })
          signalled = true
          resolve()
        })
      }
      // One that came while the modules were loading (src/main.ts held it) counts as the first.
      const held = releaseStopSignals()
      if (held) {
        logger.info('stop signal received while starting; stopping once started', { signal: held })
        signalled = true
        resolve()
      }
      void worker?.primaryGone.then(resolve)
    })
    const server = await startServer(config, { logger, worker: worker ? { bus: worker.bus(config, logger.child('events')) } : undefined })
    worker?.ready()
    await stopRequested
    const drainMs = config.shutdownDrainSec * 1000
    logger.info('shutting down', { drain_sec: config.shutdownDrainSec })
    setTimeout(() => {
      logger.error('stopping took too long after the drain; exiting')
      process.exit(EXIT.error)
    }, drainMs + STOP_DEADLINE_AFTER_DRAIN_MS).unref()
    await server.stop(drainMs)
    process.exit(0)
  },
})
