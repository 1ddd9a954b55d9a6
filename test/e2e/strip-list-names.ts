/**
 * @module The names the strip-list tests send (issue #13), written out rather than taken from
 * src/lib/spoofable-headers.ts, so that a name dropped from the module fails a test.
 */

/** Every name issue #13 lists, and those of the proxies and identity providers it means by "and the like". */
export const CLIENT_ADDRESS = [
  'CF-Connecting-IP',
  'CF-Connecting-IPv6',
  'CF-Pseudo-IPv4',
  'True-Client-IP',
  'Fastly-Client-IP',
  'X-Azure-ClientIP',
  'X-Azure-SocketIP',
  'X-Client-IP',
  'X-Cluster-Client-IP',
  'X-Original-Forwarded-For',
  'X-Forwarded',
  'Forwarded-For',
  'Client-IP',
] as const
export const IDENTITY = [
  // oauth2-proxy, Traefik forward-auth as configured with it
  'X-Forwarded-User',
  'X-Forwarded-Email',
  'X-Forwarded-Groups',
  'X-Forwarded-Preferred-Username',
  'X-Forwarded-Access-Token',
  // nginx auth_request with oauth2-proxy, and ours
  'X-Auth-Request-User',
  'X-Auth-Request-Email',
  'X-Auth-Request-Groups',
  'X-Auth-Request-Access-Token',
  'X-Auth-User',
  'X-Auth-Scopes',
  // Authelia
  'Remote-User',
  'Remote-Email',
  'Remote-Groups',
  'Remote-Name',
  // what backends read
  'X-Remote-User',
  'X-Remote-Email',
  'X-User',
  'X-Username',
  'X-User-Id',
  'X-User-Email',
  'X-Email',
  // Grafana auth proxy, Kong, authentik, Pomerium, Vouch, Google IAP, AWS ALB, Azure App Service
  'X-Webauth-User',
  'X-WEBAUTH-EMAIL',
  'X-Authenticated-User',
  'X-Authenticated-Userid',
  'X-authentik-username',
  'X-Pomerium-Jwt-Assertion',
  'X-Pomerium-Claim-Email',
  'X-Vouch-User',
  'X-Goog-Authenticated-User-Email',
  'X-Goog-IAP-JWT-Assertion',
  'X-Amzn-Oidc-Identity',
  'X-Amzn-Oidc-Data',
  'X-MS-Client-Principal-Name',
  'X-MS-Token-AAD-Access-Token',
  'X-Consumer-Username',
  'X-Credential-Identifier',
  'X-Anonymous-Consumer',
  // client certificates a TLS-terminating proxy vouches for (the edge asks for none)
  'X-Forwarded-Client-Cert',
  'X-Client-Cert',
  'X-Client-Verify',
  'X-SSL-Client-Cert',
  'X-SSL-Client-S-DN',
  'X-Internal-Admin',
] as const
export const PATH_OVERRIDES = ['X-Original-URL', 'X-Rewrite-URL'] as const

/** The three spellings of a name. */
export const spellingsOf = (name: string): readonly string[] => [name, name.toLowerCase().replaceAll('-', '_'), name.toUpperCase()]

