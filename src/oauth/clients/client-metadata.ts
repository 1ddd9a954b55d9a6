/**
 * @module Parses a client registration request body (RFC 7591 §2, §3.1; RFC 7592 §2.2 sends the
 * same body) into ClientMetadata: unknown fields ignored (RFC 7591 §2: "MUST ignore any client
 * metadata sent by the client that it does not understand"), null treated as absent, the RFC 7591
 * §2 defaults applied, and every refusal named with the RFC 7591 §3.2.2 error code.
 */
import * as v from 'valibot'
import { fieldPath } from '../../lib/index.ts'
import { isScope } from '../tokens/scopes.ts'
import {
  APPLICATION_TYPES,
  GRANT_TYPES,
  MAX_CLIENT_NAME_LENGTH,
  MAX_METADATA_URL_LENGTH,
  MAX_REDIRECT_URIS,
  MAX_SCOPE_LENGTH,
  RESPONSE_TYPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type ClientMetadata,
  type GrantType,
  type ResponseType,
} from './model.ts'
import { validateRedirectUri } from './redirect-uri.ts'

/** RFC 7591 §3.2.2 error codes a registration can fail with (software statements are not supported). */
export type ClientMetadataErrorCode = 'invalid_redirect_uri' | 'invalid_client_metadata'

export type ClientMetadataResult =
  | { readonly ok: true; readonly metadata: ClientMetadata }
  | { readonly ok: false; readonly error: ClientMetadataErrorCode; readonly description: string }

/** RFC 6749 §3.3: scope = scope-token *( SP scope-token ). */
const SCOPE_SYNTAX = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/
/** No control characters in text shown on the consent page or written to logs. */
const DISPLAYABLE = /^[^\u0000-\u001f\u007f]*$/

const listOf = (values: readonly string[]) => values.map((value) => `"${value}"`).join(', ')

/** One redirect URI under the rules of redirect-uri.ts; the message is the rule that failed. */
const RedirectUriSchema = v.pipe(
  v.string('expected a string'),
  v.check(
    (uri) => validateRedirectUri(uri).ok,
    (issue) => {
      const check = validateRedirectUri(String(issue.input))
      return check.ok ? 'invalid redirect URI' : check.reason
    },
  ),
)

/** client_uri / logo_uri are shown and linked on the consent page: https (or loopback http) only, never javascript:. */
const MetadataUrlSchema = v.pipe(
  v.string('expected a URL'),
  v.maxLength(MAX_METADATA_URL_LENGTH, `must be at most ${MAX_METADATA_URL_LENGTH} characters`),
  v.check((text) => {
    const url = /^[\x21-\x7e]+$/.test(text) ? URL.parse(text) : null
    if (url === null || url.username !== '' || url.password !== '') return false
    return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname))
  }, 'expected an https URL without credentials'),
)

const RegistrationRequestSchema = v.object({
  // The cap is checked before any URI is parsed, so a 10,000-entry list costs nothing.
  redirect_uris: v.nullish(
    v.pipe(
      v.array(v.unknown(), 'expected an array of redirect URIs'),
      v.maxLength(MAX_REDIRECT_URIS, `at most ${MAX_REDIRECT_URIS} redirect URIs may be registered`),
      v.array(RedirectUriSchema),
    ),
  ),
  token_endpoint_auth_method: v.nullish(v.picklist(TOKEN_ENDPOINT_AUTH_METHODS, `expected one of ${listOf(TOKEN_ENDPOINT_AUTH_METHODS)}`)),
  grant_types: v.nullish(
    v.pipe(
      v.array(v.unknown(), 'expected an array of grant types'),
      v.maxLength(GRANT_TYPES.length * 2, 'too many grant types'),
      v.array(v.picklist(GRANT_TYPES, `unsupported grant type; expected one of ${listOf(GRANT_TYPES)}`)),
    ),
  ),
  response_types: v.nullish(
    v.pipe(
      v.array(v.unknown(), 'expected an array of response types'),
      v.maxLength(RESPONSE_TYPES.length * 2, 'too many response types'),
      // OAuth 2.1 §10: the implicit grant (response_type=token) is removed.
      v.array(v.picklist(RESPONSE_TYPES, 'only "code" is supported (OAuth 2.1 removes the implicit grant)')),
    ),
  ),
  client_name: v.nullish(
    v.pipe(
      v.string('expected a string'),
      v.maxLength(MAX_CLIENT_NAME_LENGTH, `must be at most ${MAX_CLIENT_NAME_LENGTH} characters`),
      v.regex(DISPLAYABLE, 'must not contain control characters'),
    ),
  ),
  client_uri: v.nullish(MetadataUrlSchema),
  logo_uri: v.nullish(MetadataUrlSchema),
  scope: v.nullish(
    v.pipe(
      v.string('expected a space-separated string of scopes'),
      v.maxLength(MAX_SCOPE_LENGTH, `must be at most ${MAX_SCOPE_LENGTH} characters`),
      v.regex(SCOPE_SYNTAX, 'expected space-separated scope tokens (RFC 6749 §3.3)'),
    ),
  ),
  application_type: v.nullish(v.picklist(APPLICATION_TYPES, `expected one of ${listOf(APPLICATION_TYPES)}`)),
})

const unique = <T>(values: readonly T[]): T[] => [...new Set(values)]

function refuse(error: ClientMetadataErrorCode, description: string): ClientMetadataResult {
  return { ok: false, error, description }
}

export function parseClientMetadata(input: unknown): ClientMetadataResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return refuse('invalid_client_metadata', 'the request body must be a JSON object of client metadata (RFC 7591 §2)')
  }
  const parsed = v.safeParse(RegistrationRequestSchema, input)
  if (!parsed.success) {
    const issue = parsed.issues[0]
    const path = fieldPath(issue.path)
    // RFC 7591 §3.2.2: invalid_redirect_uri for "one or more redirection URIs", invalid_client_metadata for any other field.
    return refuse(path.startsWith('redirect_uris') ? 'invalid_redirect_uri' : 'invalid_client_metadata', path ? `${path}: ${issue.message}` : issue.message)
  }
  const request = parsed.output

  // RFC 7591 §2 defaults: grant_types ["authorization_code"], token_endpoint_auth_method client_secret_basic.
  const grantTypes: GrantType[] = unique(request.grant_types ?? ['authorization_code'])
  if (grantTypes.length === 0) return refuse('invalid_client_metadata', 'grant_types: at least one grant type is required')
  const usesCode = grantTypes.includes('authorization_code')
  if (grantTypes.every((grant) => grant === 'refresh_token')) {
    return refuse('invalid_client_metadata', 'grant_types: refresh_token needs authorization_code or the device grant to obtain a first token')
  }
  // A device-only client has no front channel, so it defaults to no response types.
  const responseTypes: ResponseType[] = unique(request.response_types ?? (usesCode ? ['code'] : []))
  // RFC 7591 §2.1: "authorization_code" goes with response type "code", and the reverse.
  if (usesCode !== responseTypes.includes('code')) {
    return refuse('invalid_client_metadata', 'grant_types authorization_code and response_types code must be registered together (RFC 7591 §2.1)')
  }
  const redirectUris = unique(request.redirect_uris ?? [])
  // RFC 7591 §2: redirect-based flows need redirect_uris; OAuth 2.1 §2.3: every client registers them.
  if (usesCode && redirectUris.length === 0) {
    return refuse('invalid_redirect_uri', 'redirect_uris: at least one redirect URI is required for the authorization_code grant (RFC 7591 §2)')
  }

  const metadata: ClientMetadata = {
    redirect_uris: redirectUris,
    token_endpoint_auth_method: request.token_endpoint_auth_method ?? 'client_secret_basic',
    grant_types: grantTypes,
    response_types: responseTypes,
  }
  if (request.client_name) metadata.client_name = request.client_name
  if (request.client_uri) metadata.client_uri = request.client_uri
  if (request.logo_uri) metadata.logo_uri = request.logo_uri
  // RFC 7591 §3.2.1 lets the server replace requested values: only scopes this server knows are kept.
  const scope = unique((request.scope ?? '').split(' ').filter(isScope)).join(' ')
  if (scope) metadata.scope = scope
  if (request.application_type) metadata.application_type = request.application_type
  return { ok: true, metadata }
}
