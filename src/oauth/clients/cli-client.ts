/**
 * @module The command line's first-party client. `oauth-https-proxy login` signs in with the device
 * flow (RFC 8628) as this client, which nobody registers and which exists whatever OAUTH_REGISTRATION
 * says, so `token` and `closed` registration no longer lock the CLI out. Public (a CLI keeps no
 * secret, RFC 8252 §8.5), the device_code and refresh_token grants only (no redirect URI at all), the
 * scopes the CLI uses, and tokens for the management API alone: the CLI talks to nothing else, and a
 * well-known client id must not be a way to tokens for anything more.
 */
import type { OAuthClient } from './model.ts'

export const CLI_CLIENT_ID = 'oauth-https-proxy-cli'

/** Where the CLI's tokens may be for; the composition root knows the API's resource. */
export interface CliClientRules {
  /** The API's resource (RFC 8707): the only one the CLI's tokens may be for. */
  readonly apiResource: string
}

export function cliClient(): OAuthClient {
  return {
    client_id: CLI_CLIENT_ID,
    client_name: 'oauth-https-proxy CLI',
    redirect_uris: [],
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    application_type: 'native',
    scope: 'admin user',
    client_id_issued_at: 0,
  }
}
