/** @module Every setting as a citty flag, so `serve --help` lists them all with their env names and defaults. */
import type { ArgsDef } from 'citty'
import { flagName, SETTINGS, type SettingName } from '../config/index.ts'

export function settingsArgs(): ArgsDef {
  const args: ArgsDef = {}
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const setting = SETTINGS[name]
    const fallback = 'fallback' in setting && setting.fallback !== '' ? `; default ${setting.fallback}` : ''
    args[flagName(name)] = { type: 'string', description: `${setting.description} [env ${setting.env}${fallback}]` }
  }
  return args
}

/** The flag values the user actually gave, keyed by flag name, for loadConfig. */
export function givenFlags(args: Record<string, unknown>): Record<string, string> {
  const flags: Record<string, string> = {}
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const value = args[flagName(name)]
    if (typeof value === 'string') flags[flagName(name)] = value
  }
  return flags
}
