/** @module `oauth-https-proxy serve`: boots the server and stops it cleanly on SIGINT/SIGTERM. */
import { defineCommand } from 'citty'
import { legacyEnvWarnings, loadConfig } from '../config/index.ts'
import { createLogger } from '../lib/index.ts'
import { startServer } from '../server.ts'
import { givenFlags, settingsArgs } from './settings-args.ts'

export const serveCommand = defineCommand({
  meta: { name: 'serve', description: 'Run the server (the default command). Every flag can also be set by its environment variable.\nExample: oauth-https-proxy serve --public-url https://api.example.com --data-dir /var/lib/oauth-https-proxy' },
  args: settingsArgs(),
  async run({ args }) {
    const config = loadConfig(process.env, givenFlags(args))
    const logger = createLogger(config.logLevel)
    // A .env written for the original project: say what no longer applies rather than ignore it silently.
    for (const warning of legacyEnvWarnings(process.env)) logger.warn(warning)
    // Listen for signals before anything starts: a signal during start-up still means a clean stop.
    const stopRequested = new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve())
      process.once('SIGTERM', () => resolve())
    })
    const server = await startServer(config, { logger })
    await stopRequested
    await server.stop()
    process.exit(0)
  },
})
