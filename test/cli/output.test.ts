/** Output for people and scripts: widths, truncation on a TTY only, colour rules, --json, --quiet, hostile text. */
import { describe, expect, test } from 'bun:test'
import { fitWidths, formatRecord, formatTable, isColorAllowed, printJsonOrTable, printRecord, printTable, truncate, type Terminal } from '../../src/cli/client/index.ts'

function terminal(options: Partial<Omit<Terminal, 'write'>> = {}): Terminal & { text: () => string } {
  let text = ''
  return { write: (chunk) => void (text += chunk), isTTY: false, columns: undefined, color: false, ...options, text: () => text }
}

const rows = [
  { hostname: 'app.example.com', target_url: 'http://127.0.0.1:3000', enabled: true, scopes: ['admin', 'user'] },
  { hostname: 'a-much-longer-hostname.example.com', target_url: 'http://10.0.0.2:8080/some/long/path/for/testing', enabled: false, scopes: [] },
]
const columns = [
  { key: 'hostname', header: 'hostname' },
  { key: 'target_url', header: 'target' },
  { key: 'enabled', header: 'enabled' },
]

describe('tables', () => {
  test('aligned columns, upper-case headers, two spaces apart, no trailing spaces; booleans yes/no', () => {
    expect(formatTable(rows, columns, { width: undefined, color: false })).toBe(
      [
        'HOSTNAME                            TARGET                                           ENABLED',
        'app.example.com                     http://127.0.0.1:3000                            yes',
        'a-much-longer-hostname.example.com  http://10.0.0.2:8080/some/long/path/for/testing  no',
        '',
      ].join('\n'),
    )
  })

  test('on a narrow TTY the widest column gives way first, cut with "…"; every line fits', () => {
    const out = terminal({ isTTY: true, columns: 60 })
    printTable(rows, columns, { terminal: out })
    const lines = out.text().trimEnd().split('\n')
    for (const line of lines) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(60)
    expect(lines[2]).toContain('…')
    expect(lines[1]).toStartWith('app.example.com')
    expect(lines.map((line) => line.endsWith('yes') || line.endsWith('no') || line.endsWith('ENABLED'))).toEqual([true, true, true])
  })

  test('not a TTY: nothing is cut, whatever the width', () => {
    const out = terminal({ isTTY: false, columns: 20 })
    printTable(rows, columns, { terminal: out })
    expect(out.text()).toContain('http://10.0.0.2:8080/some/long/path/for/testing')
    expect(out.text()).not.toContain('…')
  })

  test('fitWidths never cuts a column below 4 cells, nor a short column at all', () => {
    expect(fitWidths([10, 40, 3], 30)).toEqual([10, 13, 3])
    expect(fitWidths([30, 30], 10)).toEqual([4, 4])
    expect(fitWidths([10, 10], undefined)).toEqual([10, 10])
  })

  test('truncate counts cells, so wide characters are not split past the width', () => {
    expect(truncate('hello world', 6)).toBe('hello…')
    expect(truncate('日本語のホスト名', 7)).toBe('日本語…')
    expect(Bun.stringWidth(truncate('日本語のホスト名', 7))).toBeLessThanOrEqual(7)
    expect(truncate('short', 10)).toBe('short')
  })

  test('text from the server cannot carry escape sequences or line breaks to the terminal', () => {
    const text = formatTable([{ hostname: 'evil\x1b[2J\x1b]0;pwned\x07.example.com\nsecond line' }], [{ key: 'hostname', header: 'hostname' }], { width: undefined, color: false })
    expect(text).not.toContain('\x1b')
    expect(text).not.toContain('\x07')
    expect(text.trimEnd().split('\n')).toHaveLength(2)
  })

  test('colour: bold headers only when the terminal allows it', () => {
    expect(formatTable(rows, columns, { width: undefined, color: true }).split('\n')[0]).toContain('\x1b[1m')
    expect(formatTable(rows, columns, { width: undefined, color: true }).split('\n')[1]).not.toContain('\x1b')
  })

  test('colour is allowed on a TTY only, and never when NO_COLOR is set to anything, or TERM=dumb', () => {
    expect(isColorAllowed(true, {})).toBe(true)
    expect(isColorAllowed(false, {})).toBe(false)
    for (const value of ['1', '0', '', 'false']) expect(isColorAllowed(true, { NO_COLOR: value })).toBe(false)
    expect(isColorAllowed(true, { TERM: 'dumb' })).toBe(false)
  })

  test('an empty listing prints nothing on stdout', () => {
    const out = terminal()
    printTable([], columns, { terminal: out })
    expect(out.text()).toBe('')
  })
})

describe('--json and --quiet', () => {
  test('--json prints the API value exactly (2-space JSON), never coloured, even on a colour TTY', () => {
    const out = terminal({ isTTY: true, columns: 20, color: true })
    const value = { items: rows, total: 2 }
    printJsonOrTable(value, columns, { json: true, rows: value.items, terminal: out })
    expect(out.text()).toBe(JSON.stringify(value, null, 2) + '\n')
  })

  test('--quiet prints the id column, one per line', () => {
    const out = terminal({ isTTY: true, columns: 80, color: true })
    printTable(rows, columns, { quiet: true, terminal: out })
    expect(out.text()).toBe('app.example.com\na-much-longer-hostname.example.com\n')
    const byKey = terminal()
    printTable(rows, columns, { quiet: true, idKey: 'target_url', terminal: byKey })
    expect(byKey.text()).toBe('http://127.0.0.1:3000\nhttp://10.0.0.2:8080/some/long/path/for/testing\n')
  })

  test('printJsonOrTable without --json: a table of the rows (the value itself when it is an array)', () => {
    const out = terminal()
    printJsonOrTable(rows, columns, { terminal: out })
    expect(out.text().split('\n')[0]).toStartWith('HOSTNAME')
  })
})

describe('records', () => {
  test('key: value lines, aligned; nested objects as dotted keys; lists joined; nothing as "-"', () => {
    expect(formatRecord({ version: '0.1.0', you: { username: 'alice', scopes: ['admin', 'user'] }, note: null }, { width: undefined, color: false })).toBe(
      ['version:      0.1.0', 'you.username: alice', 'you.scopes:   admin, user', 'note:         -', ''].join('\n'),
    )
  })

  test('printRecord: --json is the object, --quiet its id', () => {
    const json = terminal()
    printRecord({ node_id: 'n1', a: 1 }, { json: true, terminal: json })
    expect(JSON.parse(json.text())).toEqual({ node_id: 'n1', a: 1 })
    const quiet = terminal()
    printRecord({ node_id: 'n1', a: 1 }, { quiet: true, idKey: 'node_id', terminal: quiet })
    expect(quiet.text()).toBe('n1\n')
  })
})
