/**
 * @module Messages for people while a command waits (stderr): on a TTY a spinner with elapsed seconds on
 * one rewritten line; into a pipe or file a single plain line, no carriage returns or escape codes.
 */

export interface ProgressStream {
  write(text: string): unknown
  readonly isTTY?: boolean
}

export interface Progress {
  /** One line for the user. */
  say(line: string): void
  /** Sleeps; the spinner keeps turning meanwhile. */
  wait(ms: number): Promise<void>
  /** Runs work with `label` shown as in progress; the line is cleared when it settles. */
  during<T>(label: string, work: () => Promise<T>): Promise<T>
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']
const TICK_MS = 100

export function createProgress(stream: ProgressStream, env: Readonly<Record<string, string | undefined>>): Progress {
  const isLive = stream.isTTY === true && env.TERM !== 'dumb'
  let active: { label: string; startedMs: number; frame: number } | null = null
  const clear = () => void (isLive && active && stream.write('\r\x1b[K'))
  const draw = () => {
    if (!isLive || !active) return
    const elapsedSec = Math.floor((Date.now() - active.startedMs) / 1000)
    stream.write(`\r\x1b[K${FRAMES[active.frame++ % FRAMES.length]} ${active.label}… ${elapsedSec}s`)
  }
  return {
    say(line) {
      clear()
      stream.write(`${line}\n`)
      draw()
    },
    wait: (ms) => Bun.sleep(ms),
    async during(label, work) {
      if (!isLive) {
        stream.write(`${label}…\n`)
        return work()
      }
      active = { label, startedMs: Date.now(), frame: 0 }
      draw()
      const timer = setInterval(draw, TICK_MS)
      try {
        return await work()
      } finally {
        clearInterval(timer)
        clear()
        active = null
      }
    },
  }
}
