/**
 * @module `oauth-https-proxy oauth client list|show|delete` (/oauth/clients), `oauth token list|revoke`
 * (/oauth/tokens: a user's refresh-token families), `oauth keys list|rotate` (/oauth/keys, over HTTP;
 * the host command `keys` works on the store instead) and `oauth registration-token create|list|delete`
 * (initial access tokens for OAUTH_REGISTRATION=token). Nothing here ever shows a token or secret but
 * the one `registration-token create` exists to print: the API returns none.
 */
import { defineCommand } from 'citty'
import { API_ARGS, apiPath, createApiClient, printJson, printJsonOrTable, printRecord, printTable, type Column } from '../client/index.ts'
import { defineApiCommand, optionalInteger, requiredText } from './flags.ts'
import { printDone, shortTime } from './results.ts'

const CLI = 'oauth-https-proxy oauth'

const CLIENT_COLUMNS: Column[] = [
  { key: 'client_id', header: 'client id' },
  { key: 'client_name', header: 'name' },
  { key: 'token_endpoint_auth_method', header: 'auth' },
  { key: 'grant_types', header: 'grants' },
  { key: 'client_id_issued_at', header: 'issued', format: shortTime },
  { key: 'last_used_at', header: 'last used', format: shortTime },
]

const FAMILY_COLUMNS: Column[] = [
  { key: 'family_id', header: 'family id' },
  { key: 'client_id', header: 'client' },
  { key: 'username', header: 'user' },
  { key: 'scopes', header: 'scopes' },
  { key: 'created_at', header: 'created', format: shortTime },
  { key: 'last_used_at', header: 'last used', format: shortTime },
  { key: 'expires_at', header: 'expires', format: shortTime },
]

const KEY_COLUMNS: Column[] = [
  { key: 'kid', header: 'kid' },
  { key: 'alg', header: 'alg' },
  { key: 'active', header: 'active' },
  { key: 'created_at', header: 'created', format: shortTime },
  { key: 'retired_at', header: 'retired', format: shortTime },
]

const REGISTRATION_TOKEN_COLUMNS: Column[] = [
  { key: 'id', header: 'id' },
  { key: 'label', header: 'label' },
  { key: 'single_use', header: 'single use' },
  { key: 'uses', header: 'uses' },
  { key: 'created_by', header: 'created by' },
  { key: 'created_at', header: 'created', format: shortTime },
  { key: 'expires_at', header: 'expires', format: shortTime },
]

const CLIENT_ID_ARG = { 'client-id': { type: 'positional', required: true, valueHint: 'client-id', description: 'the registered client\'s id' } } as const

const clientList = defineApiCommand({
  meta: { name: 'list', description: `List registered OAuth clients (never a secret)\nExample: ${CLI} client list` },
  args: { ...API_ARGS },
  async run({ args }) {
    printJsonOrTable(await createApiClient(args).get('/oauth/clients'), CLIENT_COLUMNS, { ...args, empty: 'no registered clients' })
  },
})

const clientShow = defineApiCommand({
  meta: { name: 'show', description: `Show a registered OAuth client and its live token families\nExample: ${CLI} client show 7Hc2kq0xNw` },
  args: { ...CLIENT_ID_ARG, ...API_ARGS },
  async run({ args }) {
    const client = await createApiClient(args).get<Record<string, unknown> & { token_families?: Record<string, unknown>[] }>(apiPath`/oauth/clients/${args['client-id']}`)
    if (args.json) return printJson(client)
    if (args.quiet) return printRecord(client, { quiet: true, idKey: 'client_id' })
    const { token_families: families = [], ...rest } = client
    printRecord(rest)
    process.stdout.write('\n')
    if (families.length === 0) process.stdout.write('no live token families\n')
    else printTable(families, FAMILY_COLUMNS)
  },
})

const clientDelete = defineApiCommand({
  meta: { name: 'delete', description: `Delete a registered OAuth client; its token families are revoked first\nExample: ${CLI} client delete 7Hc2kq0xNw` },
  args: { ...CLIENT_ID_ARG, ...API_ARGS },
  async run({ args }) {
    await createApiClient(args).delete(apiPath`/oauth/clients/${args['client-id']}`)
    printDone(`deleted OAuth client ${args['client-id']} and revoked its tokens`, args['client-id'], args)
  },
})

const tokenList = defineApiCommand({
  meta: { name: 'list', description: `List a user's refresh-token families (one per sign-in; never a token)\nExample: ${CLI} token list --user alice` },
  args: {
    user: { type: 'string', required: true, valueHint: 'login', description: 'the user (GitHub login, or the name given to token issue)' },
    ...API_ARGS,
  },
  async run({ args }) {
    const families = await createApiClient(args).get('/oauth/tokens', { username: requiredText('user', args.user) })
    printJsonOrTable(families, FAMILY_COLUMNS, { ...args, empty: `no live token families for ${args.user}` })
  },
})

const tokenRevoke = defineApiCommand({
  meta: { name: 'revoke', description: `Revoke a token family: its refresh token and live access tokens stop working\nExample: ${CLI} token revoke 9f1c2b7e-…` },
  args: { 'family-id': { type: 'positional', required: true, valueHint: 'family-id', description: 'from: oauth token list' }, ...API_ARGS },
  async run({ args }) {
    await createApiClient(args).delete(apiPath`/oauth/tokens/${args['family-id']}`)
    printDone(`revoked token family ${args['family-id']}`, args['family-id'], args)
  },
})

const keysList = defineApiCommand({
  meta: { name: 'list', description: `List the signing keys still in use (no private material)\nExample: ${CLI} keys list` },
  args: { ...API_ARGS },
  async run({ args }) {
    printJsonOrTable(await createApiClient(args).get('/oauth/keys'), KEY_COLUMNS, { ...args, empty: 'no signing keys' })
  },
})

const keysRotate = defineApiCommand({
  meta: { name: 'rotate', description: `Sign new tokens with a new key; the old one verifies until its tokens expire\nExample: ${CLI} keys rotate` },
  args: { ...API_ARGS },
  async run({ args }) {
    printRecord(await createApiClient(args).post<Record<string, unknown>>('/oauth/keys/rotate'), { ...args, idKey: 'kid' })
  },
})

const registrationTokenCreate = defineApiCommand({
  meta: {
    name: 'create',
    description: `Issue an initial access token (RFC 7591 §3) for OAUTH_REGISTRATION=token: one client registers with it as its Bearer token\nExample: ${CLI} registration-token create --expires-in 3600`,
  },
  args: {
    'expires-in': { type: 'string', valueHint: 'seconds', description: 'how long it stays valid (default 86400, at most 31536000)' },
    reusable: { type: 'boolean', description: 'any number of registrations until it expires (default: one)' },
    label: { type: 'string', valueHint: 'text', description: 'what it is for, shown by registration-token list' },
    ...API_ARGS,
  },
  async run({ args }) {
    const expiresIn = optionalInteger('expires-in', args['expires-in'])
    const created = await createApiClient(args).post<Record<string, unknown>>('/oauth/registration-tokens', {
      ...(expiresIn === undefined || expiresIn === null ? {} : { expires_in: expiresIn }),
      ...(args.reusable ? { single_use: false } : {}),
      ...(args.label === undefined ? {} : { label: args.label }),
    })
    // The token is what this command is for: printed alone with --quiet, for scripts.
    printRecord(created, { ...args, idKey: 'initial_access_token' })
  },
})

const registrationTokenList = defineApiCommand({
  meta: { name: 'list', description: `List the initial access tokens that have not expired: id, label, uses, who issued them, expiry (never the token)\nExample: ${CLI} registration-token list` },
  args: { ...API_ARGS },
  async run({ args }) {
    printJsonOrTable(await createApiClient(args).get('/oauth/registration-tokens'), REGISTRATION_TOKEN_COLUMNS, { ...args, empty: 'no registration tokens' })
  },
})

const registrationTokenDelete = defineApiCommand({
  meta: { name: 'delete', description: `Delete an initial access token: it admits no registration from now on\nExample: ${CLI} registration-token delete 3f9a0c1d2e4b5a69` },
  args: { id: { type: 'positional', required: true, valueHint: 'id', description: 'from: oauth registration-token list' }, ...API_ARGS },
  async run({ args }) {
    await createApiClient(args).delete(apiPath`/oauth/registration-tokens/${args.id}`)
    printDone(`deleted registration token ${args.id}`, args.id, args)
  },
})

export const oauthCommand = defineCommand({
  meta: { name: 'oauth', description: 'The authorization server: registered clients, issued tokens, signing keys, registration tokens' },
  subCommands: {
    client: defineCommand({ meta: { name: 'client', description: 'Registered OAuth clients' }, subCommands: { list: clientList, show: clientShow, delete: clientDelete } }),
    token: defineCommand({ meta: { name: 'token', description: 'Refresh-token families (one per sign-in)' }, subCommands: { list: tokenList, revoke: tokenRevoke } }),
    keys: defineCommand({ meta: { name: 'keys', description: 'Signing keys, over the API (the host command `keys` reads the store)' }, subCommands: { list: keysList, rotate: keysRotate } }),
    'registration-token': defineCommand({
      meta: { name: 'registration-token', description: 'Initial access tokens for client registration (OAUTH_REGISTRATION=token)' },
      subCommands: { create: registrationTokenCreate, list: registrationTokenList, delete: registrationTokenDelete },
    }),
  },
})
