/** Progress on stderr: a spinner with elapsed seconds on a TTY, one plain line into a pipe. */
import { expect, test } from 'bun:test'
import { createProgress } from '../../src/cli/client/index.ts'

const stream = (isTTY: boolean) => {
  let text = ''
  return { isTTY, write: (chunk: string) => void (text += chunk), text: () => text }
}

test('a pipe gets one line per message and no carriage return or escape code', async () => {
  const out = stream(false)
  const progress = createProgress(out, {})
  const value = await progress.during('Waiting for approval', async () => {
    progress.say('! First copy your one-time code: ABCD-EFGH')
    return 42
  })
  expect(value).toBe(42)
  expect(out.text()).toBe('Waiting for approval…\n! First copy your one-time code: ABCD-EFGH\n')
})

test('a TTY gets a spinner line that is rewritten in place and cleared at the end; messages keep their own lines', async () => {
  const out = stream(true)
  const progress = createProgress(out, {})
  await progress.during('Waiting for approval', async () => {
    await Bun.sleep(250) // the spinner's own timer, measured: it must have turned
    progress.say('hello')
  })
  const text = out.text()
  expect(text).toMatch(/\r\x1b\[K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for approval… 0s/)
  expect(text.match(/Waiting for approval/g)!.length).toBeGreaterThanOrEqual(3)
  expect(text).toContain('\r\x1b[Khello\n')
  expect(text.endsWith('\r\x1b[K')).toBe(true)
})

test('TERM=dumb is treated like a pipe', async () => {
  const out = stream(true)
  await createProgress(out, { TERM: 'dumb' }).during('Working', async () => {})
  expect(out.text()).toBe('Working…\n')
})
