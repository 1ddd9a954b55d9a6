/** @module `oauth-https-proxy serve`: boots the server and stops it cleanly on SIGINT/SIGTERM. */
import { defineCommand } from 'citty'
import { loadConfig } from '../config/index.ts'
import { startServer } from '../server.ts'
import { givenFlags, settingsArgs } from './settings-args.ts'

export const serveCommand = defineCommand({
  meta: { name: 'serve', description: 'Run the server (the default command). Every flag can also be set by its environment variable.' },
  args: settingsArgs(),
  async run({ args }) {
    const config = loadConfig(process.env, givenFlags(args))
    const server = await startServer(config)
    await new Promise<void>((resolve) => {
      const shutdown = () => resolve()
      process.once('SIGINT', shutdown)
      process.once('SIGTERM', shutdown)
    })
    await server.stop()
    process.exit(0)
  },
})
