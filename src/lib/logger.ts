/**
 * @module Leveled, structured log lines on stderr. Callers never pass secrets. Each component (oauth,
 * edge, certs, …) can have a level of its own, changed at run time (PUT /logs/level) without a restart;
 * a component without one follows the default, LOG_LEVEL at start.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export type LogFields = Record<string, string | number | boolean | null | undefined>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  /**
   * The logger of one component: its lines carry `component`, and it obeys that component's level.
   * Flat: a child's child is just the logger of the inner name.
   */
  child(component: string): Logger
  /** The levels this logger and all its children obey (one table per createLogger). */
  readonly levels: LogLevels
}

/** What GET /logs/level shows: the default and every component a logger was made for. */
export interface LogLevelTable {
  readonly default: LogLevel
  /** Sorted by name; `own` is false when the component follows the default. */
  readonly components: readonly { readonly name: string; readonly level: LogLevel; readonly own: boolean }[]
}

/** A table of levels shared by a logger and its children. Changes apply to the next line logged. */
export interface LogLevels {
  readonly defaultLevel: LogLevel
  setDefault(level: LogLevel): void
  /** The level a component's lines obey now (the default for one without its own). */
  levelOf(component: string): LogLevel
  /** Gives a component its own level. The component need not have a logger yet. */
  set(component: string, level: LogLevel): void
  /** The component follows the default again; false when it had no level of its own. */
  reset(component: string): boolean
  /** Whether a logger was made for this component (the names an operator can expect to see). */
  isKnown(component: string): boolean
  table(): LogLevelTable
  /**
   * Registers a component (a logger was made for it) and returns its live cell: the threshold its
   * log calls compare against, kept current by set, reset and setDefault (no lookup per line).
   */
  track(component: string | null): { readonly threshold: number }
}

/** Component names: short, lower-case, safe in a URL path segment and a JSON field. */
export const COMPONENT_NAME = /^[a-z][a-z0-9-]{0,31}$/

const rank = (level: LogLevel) => LOG_LEVELS.indexOf(level)

/** One mutable cell per component, so a log call compares two numbers and reads no map. */
interface LevelCell {
  threshold: number
  own: LogLevel | null
  known: boolean
}

export function createLogLevels(initial: LogLevel): LogLevels {
  let defaultLevel = initial
  const cells = new Map<string, LevelCell>()
  const cellOf = (component: string): LevelCell => {
    let cell = cells.get(component)
    if (!cell) {
      cell = { threshold: rank(defaultLevel), own: null, known: false }
      cells.set(component, cell)
    }
    return cell
  }
  const root: LevelCell = { threshold: rank(initial), own: null, known: true }
  return {
    get defaultLevel() {
      return defaultLevel
    },
    setDefault(level) {
      defaultLevel = level
      root.threshold = rank(level)
      for (const cell of cells.values()) if (cell.own === null) cell.threshold = rank(level)
    },
    levelOf: (component) => cells.get(component)?.own ?? defaultLevel,
    set(component, level) {
      const cell = cellOf(component)
      cell.own = level
      cell.threshold = rank(level)
    },
    reset(component) {
      const cell = cells.get(component)
      if (!cell || cell.own === null) return false
      cell.own = null
      cell.threshold = rank(defaultLevel)
      return true
    },
    isKnown: (component) => cells.get(component)?.known === true,
    table: () => ({
      default: defaultLevel,
      components: [...cells]
        .filter(([, cell]) => cell.known || cell.own !== null)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, cell]) => ({ name, level: cell.own ?? defaultLevel, own: cell.own !== null })),
    }),
    track(component) {
      if (component === null) return root
      const cell = cellOf(component)
      cell.known = true
      return cell
    },
  }
}

/**
 * `level` is LOG_LEVEL, or a table shared with other loggers. The root logger (no component) follows
 * the default level.
 */
export function createLogger(level: LogLevel | LogLevels, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const levels = typeof level === 'string' ? createLogLevels(level) : level

  const make = (component: string | null): Logger => {
    const cell = levels.track(component)
    const emit = (at: LogLevel) => {
      const atRank = rank(at)
      return (msg: string, fields?: LogFields) => {
        if (atRank < cell.threshold) return
        const line = component === null ? { time: new Date().toISOString(), level: at, msg, ...fields } : { time: new Date().toISOString(), level: at, component, msg, ...fields }
        write(JSON.stringify(line) + '\n')
      }
    }
    return {
      debug: emit('debug'),
      info: emit('info'),
      warn: emit('warn'),
      error: emit('error'),
      child(name) {
        if (!COMPONENT_NAME.test(name)) throw new Error(`invalid log component name ${JSON.stringify(name)}`)
        return make(name)
      },
      levels,
    }
  }
  return make(null)
}
