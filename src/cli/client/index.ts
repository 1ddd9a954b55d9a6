/**
 * @module The CLI's client plumbing: every API command is built from these parts, and nothing else
 * in src/cli talks HTTP (DESIGN §2: the CLI reaches the server only over HTTP).
 *
 * Contract for a command (e.g. src/cli/commands/proxy.ts):
 *
 *   import { defineCommand } from 'citty'
 *   import { API_ARGS, apiPath, createApiClient, printJsonOrTable, printRecord } from '../client/index.ts'
 *
 *   const list = defineCommand({
 *     meta: { name: 'list', description: 'List proxies\nExample: oauth-https-proxy proxy list --json' },
 *     args: { ...API_ARGS },
 *     async run({ args }) {
 *       const proxies = await createApiClient(args).get('/proxy/targets')
 *       printJsonOrTable(proxies, [{ key: 'proxy_hostname', header: 'hostname' }, { key: 'target_url', header: 'target' }], { ...args, empty: 'no proxies' })
 *     },
 *   })
 *   const show = … createApiClient(args).get(apiPath`/proxy/targets/${args.hostname}`) … printRecord(proxy, { ...args, idKey: 'proxy_hostname' })
 *
 * - Args: spread API_ARGS (--url, --token, --json, --quiet/-q) into `args`; SERVER_ARGS, TOKEN_ARGS and
 *   OUTPUT_ARGS are its parts. --url resolves as: --url, OHP_URL, PUBLIC_URL, http://127.0.0.1:9000.
 * - createApiClient(args) → { serverUrl, get(path, query?), post(path, body?, query?), put(…), patch(…),
 *   delete(path, query?) }: JSON in, parsed JSON out (null for 204). It sends --token/OHP_TOKEN when
 *   given, else the stored login for that server URL, refreshed silently when expired or on a 401
 *   invalid_token. apiPath`…${x}` percent-encodes each value as one path segment.
 * - Failures: every method throws CliError(message, exitCode) — one line, no stack trace, the API's
 *   `error_description` ("400 invalid_request: field target_url: …"); exit codes EXIT.ok 0, error 1,
 *   usage 2, auth 3 (401/403, not signed in), notFound 4 (404). A command throws CliError (or
 *   UsageError) for its own checks; main.ts prints `oauth-https-proxy: <message>` and exits with the code.
 * - Output: printTable(rows, columns, opts), printRecord(record, opts), printJsonOrTable(value, columns,
 *   opts & {rows?}), printJson(value). opts = { ...args, idKey?, empty? }: --json prints the API's JSON
 *   exactly, --quiet the idKey values (default: the first column's key / "id"); tables fit the
 *   terminal, colour only on a TTY without NO_COLOR. Columns: { key (dotted paths allowed), header, format? }.
 * - Help: meta.description = one-line summary, then one or more lines "Example: oauth-https-proxy …";
 *   `--help` shows them under EXAMPLES (test/cli/help.test.ts requires one on every runnable command).
 * - Never print a token; messages to people (progress, confirmations) go to stderr, results to stdout.
 * - Mounting: a group is a key of `commandGroups` (src/cli/commands/index.ts); cli/root.ts spreads it into
 *   the root command, so completion and help see it with no other change.
 */
export { API_ARGS, DEFAULT_SERVER_URL, OUTPUT_ARGS, outputModeOf, resolveGivenToken, resolveServerUrl, SERVER_ARGS, TOKEN_ARGS } from './args.ts'
export type { ApiArgs, Env, OutputMode } from './args.ts'
export { apiPath, createApiClient, EXPIRY_SKEW_MS, loginHint } from './api-client.ts'
export type { Accept, ApiClient, ApiClientDeps, Query } from './api-client.ts'
export { commandTree } from './command-tree.ts'
export type { AnyCommand, CommandNode } from './command-tree.ts'
export { completionScript, SHELLS } from './completion.ts'
export type { Shell } from './completion.ts'
export { createCredentialStore, credentialsPath } from './credentials.ts'
export type { CredentialStore, ServerCredentials, StoredTokens } from './credentials.ts'
export { apiError, CliError, EXIT, exitCodeForStatus, keepSecret, printable, redact, unreachable } from './errors.ts'
export type { ExitCode } from './errors.ts'
export { EXAMPLE_PREFIX, examplesOf, renderHelp, stripAnsi, summaryOf } from './help.ts'
export {
  CLI_SCOPES,
  decodeJwtPayload,
  DEVICE_CODE_GRANT_TYPE,
  discover,
  postTokenEndpoint,
  revokeToken,
  startDeviceAuthorization,
  storedTokens,
} from './oauth.ts'
export type { DeviceAuthorization, DeviceStart, ServerMetadata, TokenResponse, TokenResult } from './oauth.ts'
export { writeFileAtomically } from './private-file.ts'
export { createProgress } from './progress.ts'
export type { Progress, ProgressStream } from './progress.ts'
export {
  fitWidths,
  formatRecord,
  formatTable,
  formatValue,
  isColorAllowed,
  printJson,
  printJsonOrTable,
  printRecord,
  printTable,
  sanitize,
  stdoutTerminal,
  truncate,
} from './output.ts'
export type { Column, OutputOptions, Terminal } from './output.ts'
