/**
 * @module `oauth-https-proxy keys rotate|list`: run on the host, like `token issue`, against the
 * server's store. After a rotation new tokens are signed with the new key at once (every node reads
 * the active key from the store); the retired key stays in /jwks and keeps verifying the tokens it
 * signed for OAUTH_ACCESS_TOKEN_LIFETIME, then it is dropped.
 */
import { defineCommand } from 'citty'
import { systemClock } from '../lib/index.ts'
import { createKeyRing, type KeyRing, type SigningKeyInfo } from '../oauth/index.ts'
import { HOST_STORE_ARGS, withHostStore } from './host-store.ts'

const ARGS = {
  json: { type: 'boolean', default: false, description: 'print JSON (the shape of the API\'s /oauth/keys and /oauth/keys/rotate)' },
  ...HOST_STORE_ARGS,
} as const

function withKeyRing<T>(args: { 'data-dir'?: string; 'redis-url'?: string }, work: (keyRing: KeyRing, retireAfterSec: number) => Promise<T>): Promise<T> {
  return withHostStore({ 'data-dir': args['data-dir'], 'redis-url': args['redis-url'] }, (config, store) => {
    const retireAfterSec = config.oauth.accessTokenLifetimeSec
    return work(createKeyRing(store, systemClock, { retireAfterSec }), retireAfterSec)
  })
}

const iso = (ms: number) => new Date(ms).toISOString()

function keyJson(key: SigningKeyInfo) {
  return {
    kid: key.kid,
    alg: key.alg,
    active: key.isActive,
    created_at: iso(key.createdAtMs),
    ...(key.retiredAtMs === undefined ? {} : { retired_at: iso(key.retiredAtMs) }),
  }
}

const rotate = defineCommand({
  meta: { name: 'rotate', description: 'Sign new tokens with a new key; the old key verifies until its tokens have expired\nExample: oauth-https-proxy keys rotate --data-dir /var/lib/oauth-https-proxy' },
  args: ARGS,
  async run({ args }) {
    const { kid, retiredKid, retireAfterSec } = await withKeyRing(args, async (keyRing, retireAfterSec) => ({ ...(await keyRing.rotate()), retireAfterSec }))
    if (args.json) return void process.stdout.write(JSON.stringify({ kid, retired_kid: retiredKid }) + '\n')
    process.stdout.write(`new key      ${kid}\n`)
    process.stdout.write(retiredKid ? `retired key  ${retiredKid} (verifies the tokens it signed for ${retireAfterSec} s more)\n` : 'retired key  none (the store had no key)\n')
  },
})

const list = defineCommand({
  meta: { name: 'list', description: 'Signing keys still in use: the active one and retired ones that still verify\nExample: oauth-https-proxy keys list --json' },
  args: ARGS,
  async run({ args }) {
    const keys = (await withKeyRing(args, (keyRing) => keyRing.describe()))
      // The active key first, then the newest retired ones.
      .sort((a, b) => Number(b.isActive) - Number(a.isActive) || b.createdAtMs - a.createdAtMs)
      .map(keyJson)
    if (args.json) return void process.stdout.write(JSON.stringify(keys) + '\n')
    const rows = [['KID', 'ACTIVE', 'CREATED_AT', 'RETIRED_AT'], ...keys.map((key) => [key.kid, key.active ? 'yes' : 'no', key.created_at, key.retired_at ?? '-'])]
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
    for (const row of rows) process.stdout.write(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd() + '\n')
  },
})

export const keysCommand = defineCommand({
  meta: { name: 'keys', description: 'Signing keys of access tokens, on the host' },
  subCommands: { rotate, list },
})
