/** @module GitHub login syntax, shared by the allowlists' validation and the access policy. */

/**
 * What GitHub accepts at sign-up: 1–39 characters, letters, digits and single hyphens, neither first
 * nor last. Logins are case-insensitive on GitHub, so comparisons fold case.
 */
const GITHUB_LOGIN = /^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}$/

export function isGitHubLogin(text: string): boolean {
  return text.length <= 39 && GITHUB_LOGIN.test(text)
}
