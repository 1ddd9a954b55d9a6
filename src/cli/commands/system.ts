/** @module `oauth-https-proxy system …`: what the server runs (GET /system/info). */
import { defineCommand } from 'citty'
import { API_ARGS, createApiClient, printRecord } from '../client/index.ts'

const info = defineCommand({
  meta: { name: 'info', description: 'Version, node, store and who you are on the server\nExample: oauth-https-proxy system info --json' },
  args: { ...API_ARGS },
  async run({ args }) {
    const body = await createApiClient(args).get<Record<string, unknown>>('/system/info')
    printRecord(body, { ...args, idKey: 'node_id' })
  },
})

export const systemCommand = defineCommand({
  meta: { name: 'system', description: 'The server itself' },
  subCommands: { info },
})
