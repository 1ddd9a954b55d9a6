/** @module Leveled, structured log lines on stderr. Callers never pass secrets. */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export type LogFields = Record<string, string | number | boolean | null | undefined>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
}

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const threshold = LOG_LEVELS.indexOf(level)
  const emit = (at: LogLevel) => (msg: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(at) < threshold) return
    write(JSON.stringify({ time: new Date().toISOString(), level: at, msg, ...fields }) + '\n')
  }
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') }
}
