/** @module The device authorization grant (RFC 8628), delegated to GitHub's device flow. */
export { createDeviceAuthorizations, deviceScopes, SLOW_DOWN_STEP_SEC, type DeviceAuthorizations, type DeviceAuthorizationsDeps } from './device-codes.ts'
export type { DevicePollError, DevicePollInput, DevicePollResult, DeviceStartInput, DeviceStartResult } from './model.ts'
