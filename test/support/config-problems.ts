/** @module What loadConfig refuses: the problems of its ConfigError, for tests of settings' refusals. */
import { ConfigError, loadConfig } from '../../src/config/index.ts'

/** The problems loadConfig reports for `env` and `flags`; throws when it accepts them. */
export function problemsOf(env: Record<string, string>, flags: Record<string, string> = {}): string[] {
  try {
    loadConfig(env, flags)
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems]
    throw error
  }
  throw new Error('expected a ConfigError')
}
