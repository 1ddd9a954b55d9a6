/**
 * @module Environment variables of the original (Python) project that this server does not read, each
 * with what replaces it, so a .env or script written for the original says at start-up what no longer
 * applies instead of being silently ignored. Source: reference/original-behaviour.md §1.7 and §1.8.
 * Variables both projects read (HTTP_PORT, REDIS_URL, OAUTH_ADMIN_USERS, ...) are not listed here, nor are
 * the original names this server reads as aliases (RENEWAL_CHECK_INTERVAL, RENEWAL_THRESHOLD_DAYS: settings.ts).
 */

/** Variable name → what to do instead; '' when nothing replaces it. */
const LEGACY_VARIABLES: Readonly<Record<string, string>> = {
  // §1.7: required by the original's Config and OAuth Settings.
  REDIS_PASSWORD: 'put the password in REDIS_URL (redis://:PASSWORD@host:6379/0)',
  OAUTH_JWT_SECRET: 'tokens are signed with ES256 keys kept in the store; HS256 is not offered',
  OAUTH_JWT_ALGORITHM: 'tokens are always signed with ES256',
  OAUTH_JWT_PRIVATE_KEY_B64: 'signing keys are generated and kept in the store; replace them with `oauth-https-proxy keys rotate`',
  OAUTH_SESSION_TIMEOUT: 'a login must finish within a fixed 10 minutes',
  OAUTH_CLIENT_LIFETIME: 'registered clients do not expire',
  CERT_GEN_MAX_WORKERS: '',
  ACME_POLL_MAX_ATTEMPTS: '',
  ACME_POLL_INTERVAL_SECONDS: '',
  FETCHER_NAVIGATION_TIMEOUT: '',
  // §1.1: the original bound its API to 0.0.0.0 when this was set.
  RUNNING_IN_DOCKER: 'set API_HOST=0.0.0.0 to reach the API from outside (the Docker image does)',
  // §1.8: read by the original beside its Config.
  SERVER_HOST: 'use LISTEN_ADDRESS',
  API_URL: 'use PUBLIC_URL (the API\'s external URL and the OAuth issuer)',
  ACME_POLL_INITIAL_WAIT: '',
  ADMIN_EMAIL: 'use ACME_EMAIL',
  RSA_KEY_SIZE: 'self-signed certificates use ECDSA P-256 keys',
  SELF_SIGNED_CN: 'each proxy gets a self-signed certificate for its own hostname',
  SELF_SIGNED_DAYS: 'self-signed certificates are valid for 90 days',
  PROXY_CONNECT_TIMEOUT: "connecting counts toward each proxy's upstream_timeout",
  PROXY_REQUEST_TIMEOUT: "set each proxy's upstream_timeout (seconds, default 60)",
  LOG_REQUEST_HEADERS: '',
  LOG_RESPONSE_HEADERS: '',
  LOG_REQUEST_BODY: '',
  LOG_RESPONSE_BODY: '',
  LOG_BODY_MAX_SIZE: '',
  LOG_MASK_SENSITIVE: '',
  CERT_STATUS_RETENTION_SECONDS: '',
  // §1.8: documented by the original but read by neither project.
  OAUTH_LOCALHOST_ADMIN_USERS: "the original ignored it too; use OAUTH_ADMIN_USERS or the localhost proxy's oauth_admin_users",
  OAUTH_LOCALHOST_USER_USERS: "the original ignored it too; use OAUTH_USER_USERS or the localhost proxy's oauth_user_users",
  OAUTH_LOCALHOST_MCP_USERS: "the original ignored it too; use OAUTH_MCP_USERS or the localhost proxy's oauth_mcp_users",
  OAUTH_AUTH_DOMAIN: 'the original ignored it too; PUBLIC_URL sets the OAuth issuer',
  LOG_TTL_DAYS: 'the original ignored it too',
  LOG_SAMPLING_RATE: 'the original ignored it too',
}

/**
 * One line for each variable of the original that is set (non-empty) in `env` and not read here.
 * Lines name the variable, never its value: REDIS_PASSWORD and OAUTH_JWT_PRIVATE_KEY_B64 are secrets.
 */
export function legacyEnvWarnings(env: Readonly<Record<string, string | undefined>>): string[] {
  const warnings: string[] = []
  for (const [name, instead] of Object.entries(LEGACY_VARIABLES)) {
    if (!env[name]) continue
    warnings.push(`${name} is set but not read (a setting of the original oauth-https-proxy): ${instead || 'nothing replaces it'}`)
  }
  return warnings
}
