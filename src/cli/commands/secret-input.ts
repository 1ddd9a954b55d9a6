/**
 * @module Reading a secret the API takes but never returns (a GitHub client secret): from standard
 * input when piped, or typed at a prompt that does not echo. Never from an argument, which would
 * land in the shell history and the process list.
 */
import { usageError } from './flags.ts'

/** All of standard input, minus one trailing newline (`echo secret |`, a file with a final newline). */
export async function readSecretFromStdin(what: string): Promise<string> {
  const text = (await new Response(Bun.stdin.stream()).text()).replace(/\r?\n$/, '')
  if (text === '') throw usageError(`${what}: standard input was empty`)
  return text
}

/** Asks on the terminal without echo; a usage error when there is no terminal to ask on. */
export async function promptSecret(what: string, flag: string): Promise<string> {
  const stdin = process.stdin
  if (!stdin.isTTY || !process.stderr.isTTY) throw usageError(`${what}: no terminal to ask on; pipe it in with ${flag}`)
  process.stderr.write(`${what}: `)
  stdin.setRawMode(true)
  stdin.resume()
  try {
    const secret = await new Promise<string>((resolve, reject) => {
      let typed = ''
      const onData = (chunk: Buffer) => {
        for (const char of chunk.toString('utf8')) {
          if (char === '\r' || char === '\n') return finish(() => resolve(typed))
          // Ctrl-C and Ctrl-D end the prompt without a value.
          if (char === '\x03' || char === '\x04') return finish(() => reject(usageError(`${what}: not given`)))
          if (char === '\x7f' || char === '\b') typed = typed.slice(0, -1)
          else if (char >= ' ') typed += char
        }
      }
      const finish = (settle: () => void) => {
        stdin.off('data', onData)
        settle()
      }
      stdin.on('data', onData)
    })
    if (secret === '') throw usageError(`${what}: nothing was typed`)
    return secret
  } finally {
    stdin.setRawMode(false)
    stdin.pause()
    process.stderr.write('\n')
  }
}
