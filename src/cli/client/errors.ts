/**
 * @module How a CLI command fails: one CliError carrying the exit code, and the two translations every
 * API command needs (an API error body, a network failure) into one line without a stack trace.
 */

/** Exit codes of every command (documented in README "Command line"). */
export const EXIT = {
  ok: 0,
  /** Anything else: the API refused the request (400, 409, 5xx), the network failed. */
  error: 1,
  /** The command was called wrongly (unknown flag value, missing argument). */
  usage: 2,
  /** Not signed in, the session ended, or not allowed (401, 403). */
  auth: 3,
  /** The named thing does not exist (404). */
  notFound: 4,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** A failure the user can act on: main.ts prints `oauth-https-proxy: <message>` and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.error,
  ) {
    super(message)
    this.name = 'CliError'
  }
}

/** The exit code an HTTP status maps to. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth
  if (status === 404) return EXIT.notFound
  return EXIT.error
}

/** The API's error body (DESIGN §7): {error, error_description}. */
export interface ApiErrorBody {
  readonly error?: string
  readonly error_description?: string
}

/** The tokens this run holds (--token, OHP_TOKEN, the stored access and refresh tokens): never printed. */
const secrets = new Set<string>()

/** Registers a token so that redact (and so printable, sanitize and printJson) replaces it wherever it appears. */
export function keepSecret(value: string | undefined | null): void {
  // A very short value would blank ordinary words; no real token is that short.
  if (value && value.length >= 8) secrets.add(value)
}

/** The text with every registered token replaced by "[token]": a server that echoes one cannot make us print it. */
export function redact(text: string): string {
  let clean = text
  for (const secret of secrets) clean = clean.replaceAll(secret, '[token]')
  return clean
}

/** Only printable text from a server reaches the terminal: no escape sequences, no token, one line, bounded. */
export function printable(text: string, maxLength = 500): string {
  const clean = redact(text)
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
  return clean.length > maxLength ? `${clean.slice(0, maxLength - 1)}…` : clean
}

/** `400 invalid_request: field target_url: expected an http(s) URL`, with the exit code of the status. */
export function apiError(status: number, body: unknown, hint?: string): CliError {
  const { error, error_description: description } = (typeof body === 'object' && body !== null ? body : {}) as ApiErrorBody
  const parts = [String(status), typeof error === 'string' ? printable(error, 80) : 'error']
  const detail = typeof description === 'string' ? printable(description) : ''
  const line = `${parts.join(' ')}${detail ? `: ${detail}` : ''}${hint ? ` (${hint})` : ''}`
  return new CliError(line, exitCodeForStatus(status))
}

/** Words for the failures people meet; anything else keeps its own first line. */
const NETWORK_REASONS: Record<string, string> = {
  ConnectionRefused: 'connection refused',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ConnectionClosed: 'connection closed',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate is for another host',
  CERT_HAS_EXPIRED: 'TLS certificate has expired',
}

/** `cannot reach http://127.0.0.1:9000: connection refused`; the URL is the server's, never a token's. */
export function unreachable(url: string, error: unknown): CliError {
  const failure = error as { name?: string; code?: string; message?: string }
  const reason =
    failure?.name === 'TimeoutError'
      ? 'no answer in time'
      : (failure?.code && NETWORK_REASONS[failure.code]) ?? printable(String(failure?.message ?? error).split('\n')[0]!, 200)
  return new CliError(`cannot reach ${url}: ${reason}`, EXIT.error)
}
