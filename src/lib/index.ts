/** @module Small pure helpers shared by every module. */
export { encodeBase64url, randomToken } from './base64url.ts'
export { createManualClock, systemClock, type Clock } from './clock.ts'
export { parseDurationSec } from './duration.ts'
export { createLogger, LOG_LEVELS, type LogFields, type Logger, type LogLevel } from './logger.ts'
export { secretsEqual } from './secure-compare.ts'
export { sha256Hex } from './sha256.ts'
export { cidrContains, parseCidr, type Cidr } from './cidr.ts'
export { describeBindError, StartupError } from './bind-error.ts'
