/** The README's configuration table must stay true: every setting, with its flag, and nothing stale. */
import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { flagName, SETTINGS, type SettingName } from '../../src/config/index.ts'

test('README lists every setting with its flag, and no setting that does not exist', async () => {
  const readme = await Bun.file(join(import.meta.dir, '../../README.md')).text()
  const rows = [...readme.matchAll(/^\| `([A-Z_]+)` \| `--([a-z-]+)` \|/gm)].map((m) => [m[1], m[2]])
  const expected = (Object.keys(SETTINGS) as SettingName[]).map((name) => [SETTINGS[name].env, flagName(name)])
  expect(rows).toEqual(expected)
})
