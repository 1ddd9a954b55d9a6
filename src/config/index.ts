/** @module Configuration: the settings table and the validated Config built from it. */
export { ConfigError, loadConfig, type Config } from './load.ts'
export { legacyEnvWarnings } from './legacy-env.ts'
export { flagName, SETTINGS, type SettingName } from './settings.ts'
