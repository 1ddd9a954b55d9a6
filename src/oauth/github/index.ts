/** @module The GitHub upstream: web flow, device flow and user lookup against github.com or GitHub Enterprise. */
export { createGitHubClient, DEFAULT_GITHUB_TIMEOUT_MS, type GitHubClient, type GitHubClientOptions } from './client.ts'
export type { PollDeviceFlowInput, StartDeviceFlowInput } from './device-flow.ts'
export type { MembershipQuery, MembershipResult } from './memberships.ts'
export { MAX_BODY_BYTES as GITHUB_MAX_BODY_BYTES, USER_AGENT as GITHUB_USER_AGENT } from './http.ts'
export { selectApp, type SelectedApp } from './select-app.ts'
export type {
  AuthorizeCallback,
  DeviceFlowStart,
  DevicePoll,
  ExchangeCodeResult,
  FetchUserResult,
  GitHubApp,
  LoginFailure,
  LoginFailureReason,
} from './types.ts'
export { GITHUB_API_VERSION } from './user-api.ts'
export { DEFAULT_GITHUB_SCOPE, MEMBERSHIP_GITHUB_SCOPE, readAuthorizeCallback, type AuthorizeUrlInput, type ExchangeCodeInput } from './web-flow.ts'
