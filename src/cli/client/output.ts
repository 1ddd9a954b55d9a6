/**
 * @module What commands print. People get aligned tables fitted to the terminal (the widest columns cut
 * with "…") and key: value records; scripts get `--json` (the API's JSON exactly, never coloured) or
 * `--quiet` (ids, one per line). Colour (bold/dim headers only) only on a TTY and never with NO_COLOR;
 * off a TTY nothing is cut. Text from the server is printed without control characters, so a name can
 * never carry an escape sequence to the terminal.
 */
import type { Env } from './args.ts'
import { CliError, printable, redact } from './errors.ts'

/** Where output goes and what it can show; tests pass their own. */
export interface Terminal {
  write(text: string): void
  readonly isTTY: boolean
  /** Width in cells; undefined when unknown (not a TTY). */
  readonly columns: number | undefined
  readonly color: boolean
}

/** https://no-color.org: NO_COLOR set (to anything) means no colour; so does TERM=dumb or a pipe. */
export function isColorAllowed(isTTY: boolean, env: Env): boolean {
  return isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb'
}

export function stdoutTerminal(env: Env = process.env): Terminal {
  const isTTY = process.stdout.isTTY === true
  return {
    write: (text) => void process.stdout.write(text),
    isTTY,
    columns: isTTY ? process.stdout.columns : undefined,
    color: isColorAllowed(isTTY, env),
  }
}

export interface Column<Row = Record<string, unknown>> {
  /** Property of the row; a dotted path reaches into objects ("you.username"). */
  readonly key: string
  /** Shown upper-case, like gh. */
  readonly header: string
  /** The cell's text; default formatValue(row[key]). */
  readonly format?: (value: unknown, row: Row) => string
}

export interface OutputOptions {
  /** `--json`: print the API's JSON instead. */
  readonly json?: boolean
  /** `--quiet`: print only ids, one per line. */
  readonly quiet?: boolean
  /** The id property for --quiet; default the first column's key (tables) or "id" (records). */
  readonly idKey?: string
  /** Printed on stderr, for people, when a table has no rows (e.g. "no proxies"). */
  readonly empty?: string
  readonly terminal?: Terminal
}

const GAP = '  '
/** A column is never cut narrower than this (3 characters and "…"). */
const MIN_COLUMN_WIDTH = 4
const bold = (text: string) => `\x1b[1m${text}\x1b[22m`
const dim = (text: string) => `\x1b[2m${text}\x1b[22m`

/** One line of printable text: controls (ESC included) and the tokens in use never reach the terminal. */
export function sanitize(text: string): string {
  return printable(text, Infinity)
}

/** The default cell text: "-" for nothing, yes/no, lists joined, objects as compact JSON. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-'
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(formatValue).join(', ')
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** row["a.b"], then row.a.b. */
export function valueAt(row: unknown, key: string): unknown {
  if (typeof row !== 'object' || row === null) return undefined
  if (key in row) return (row as Record<string, unknown>)[key]
  return key.split('.').reduce<unknown>((value, part) => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined), row)
}

const widthOf = (text: string) => Bun.stringWidth(text)

/** Cuts text to `width` cells, ending in "…" when anything was cut. */
export function truncate(text: string, width: number): string {
  if (widthOf(text) <= width) return text
  let kept = ''
  let used = 0
  for (const char of text) {
    const charWidth = widthOf(char)
    if (used + charWidth > width - 1) break
    kept += char
    used += charWidth
  }
  return `${kept}…`
}

const padEnd = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - widthOf(text)))

/** Column widths that fit `available` cells: the widest column gives up a cell until the row fits. */
export function fitWidths(natural: readonly number[], available: number | undefined): number[] {
  const widths = [...natural]
  if (available === undefined) return widths
  let total = widths.reduce((sum, width) => sum + width, 0) + GAP.length * Math.max(0, widths.length - 1)
  while (total > available) {
    let widest = -1
    for (let i = 0; i < widths.length; i++) {
      if (widths[i]! > Math.min(natural[i]!, MIN_COLUMN_WIDTH) && (widest < 0 || widths[i]! > widths[widest]!)) widest = i
    }
    if (widest < 0) break
    widths[widest]!--
    total--
  }
  return widths
}

export interface TableLayout {
  /** Cut to fit this many cells; undefined: never cut. */
  readonly width: number | undefined
  readonly color: boolean
}

/** The table as text, one line per row after the header, each ending in "\n". */
export function formatTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[], layout: TableLayout): string {
  const headers = columns.map((column) => sanitize(column.header.toUpperCase()))
  const cells = rows.map((row) => columns.map((column) => sanitize(column.format ? column.format(valueAt(row, column.key), row) : formatValue(valueAt(row, column.key)))))
  const natural = headers.map((header, i) => Math.max(widthOf(header), ...cells.map((line) => widthOf(line[i]!))))
  const widths = fitWidths(natural, layout.width)
  const render = (line: readonly string[], style?: (text: string) => string) =>
    line
      .map((cell, i) => {
        const cut = truncate(cell, widths[i]!)
        // The last column is not padded: no trailing spaces.
        const text = i === line.length - 1 ? cut : padEnd(cut, widths[i]!)
        return style ? style(text) : text
      })
      .join(GAP)
      .trimEnd() + '\n'
  return render(headers, layout.color ? bold : undefined) + cells.map((line) => render(line)).join('')
}

/** key: value lines, keys aligned; nested objects flattened to dotted keys. */
export function formatRecord(record: Record<string, unknown>, layout: TableLayout): string {
  const entries = flatten(record).map(([key, value]) => [sanitize(key), sanitize(formatValue(value))] as const)
  const keyWidth = Math.max(0, ...entries.map(([key]) => widthOf(key) + 1))
  return entries
    .map(([key, value]) => {
      const label = padEnd(`${key}:`, keyWidth)
      const room = layout.width === undefined ? undefined : Math.max(MIN_COLUMN_WIDTH, layout.width - keyWidth - 1)
      return `${layout.color ? dim(label) : label} ${room === undefined ? value : truncate(value, room)}`.trimEnd() + '\n'
    })
    .join('')
}

function flatten(record: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(record).flatMap(([key, value]): [string, unknown][] =>
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0
      ? flatten(value as Record<string, unknown>, `${prefix}${key}.`)
      : [[`${prefix}${key}`, value]],
  )
}

/** `--json`: exactly the value, two-space indented, never coloured. */
export function printJson(value: unknown, terminal: Terminal = stdoutTerminal()): void {
  // JSON.stringify escapes every control character; a token the server echoed is still removed.
  terminal.write(redact(JSON.stringify(value, null, 2)) + '\n')
}

const layoutOf = (terminal: Terminal): TableLayout => ({ width: terminal.isTTY ? terminal.columns : undefined, color: terminal.color })

function printIds(values: readonly unknown[], terminal: Terminal): void {
  for (const value of values) if (value !== undefined && value !== null) terminal.write(sanitize(String(value)) + '\n')
}

/** A listing: a table, or --json (the rows as JSON), or --quiet (the id column). */
export function printTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[], opts: OutputOptions = {}): void {
  const terminal = opts.terminal ?? stdoutTerminal()
  if (opts.json) return printJson(rows, terminal)
  if (opts.quiet) return printIds(rows.map((row) => valueAt(row, opts.idKey ?? columns[0]?.key ?? 'id')), terminal)
  if (rows.length === 0) {
    if (opts.empty) process.stderr.write(`${opts.empty}\n`)
    return
  }
  terminal.write(formatTable(rows, columns, layoutOf(terminal)))
}

/** One object: key: value lines, or --json, or --quiet (its id). */
export function printRecord(record: Record<string, unknown>, opts: OutputOptions = {}): void {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw unexpectedShape('an object', record)
  const terminal = opts.terminal ?? stdoutTerminal()
  if (opts.json) return printJson(record, terminal)
  if (opts.quiet) return printIds([valueAt(record, opts.idKey ?? 'id')], terminal)
  terminal.write(formatRecord(record, layoutOf(terminal)))
}

/**
 * The usual listing command: --json prints `value` (the API's answer, whatever its shape) exactly;
 * otherwise `rows` (default: `value`, which must then be an array) as a table or ids.
 */
export function printJsonOrTable<Row>(value: unknown, columns: readonly Column<Row>[], opts: OutputOptions & { readonly rows?: readonly Row[] } = {}): void {
  // Anything but a list (an HTML page, an error object answered with 200) is not "no rows".
  if (opts.rows === undefined && !Array.isArray(value)) throw unexpectedShape('a list', value)
  if (opts.json) return printJson(value, opts.terminal ?? stdoutTerminal())
  printTable(opts.rows ?? (value as Row[]), columns, opts)
}

/** The API answered JSON of another shape than the command reads: exit 1, one line. */
function unexpectedShape(expected: string, value: unknown): CliError {
  const got = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : typeof value
  return new CliError(`unexpected answer from the server: expected ${expected}, got ${got}`)
}
