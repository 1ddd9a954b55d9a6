/**
 * @module The build context of an inline Dockerfile: a tar archive holding that one file and nothing else,
 * so a build can never read the server's files (no COPY of anything but what the Dockerfile itself says).
 */

const BLOCK = 512

/** A ustar archive (POSIX.1-1988) with one regular file, `Dockerfile`, owned by root, mode 0644. */
export function dockerfileContext(dockerfile: string): Buffer {
  const body = Buffer.from(dockerfile, 'utf8')
  const header = Buffer.alloc(BLOCK)
  const field = (offset: number, length: number, value: string) => header.write(value, offset, length, 'ascii')
  const octal = (offset: number, length: number, value: number) => field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`)
  field(0, 100, 'Dockerfile')
  octal(100, 8, 0o644)
  octal(108, 8, 0) // uid
  octal(116, 8, 0) // gid
  octal(124, 12, body.length)
  octal(136, 12, 0) // mtime: fixed, so the same Dockerfile is the same archive
  field(148, 8, ' '.repeat(8)) // the checksum counts its own field as spaces
  field(156, 1, '0') // a regular file
  field(257, 6, 'ustar\0')
  field(263, 2, '00')
  let sum = 0
  for (const byte of header) sum += byte
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `)
  const padding = (BLOCK - (body.length % BLOCK)) % BLOCK
  // Two zero blocks end the archive.
  return Buffer.concat([header, body, Buffer.alloc(padding), Buffer.alloc(2 * BLOCK)])
}

/** A FROM line's base image: where it is in the text, so it can be replaced by the reference it was pulled as. */
export interface BaseImage {
  readonly ref: string
  readonly start: number
  readonly end: number
}

/**
 * The base images of a Dockerfile's FROM lines (`FROM [--flag=...] image [AS stage]`), leaving out
 * `scratch`, earlier stages and references built from ARG variables (those the builder resolves itself).
 */
export function baseImages(dockerfile: string): BaseImage[] {
  const found: BaseImage[] = []
  const stages = new Set<string>()
  for (const match of dockerfile.matchAll(/^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*(\S+)(?:[ \t]+AS[ \t]+(\S+))?/dgim)) {
    const ref = match[1]!
    const [start, end] = match.indices![1]!
    if (ref.toLowerCase() !== 'scratch' && !ref.includes('$') && !stages.has(ref.toLowerCase())) found.push({ ref, start, end })
    if (match[2]) stages.add(match[2].toLowerCase())
  }
  return found
}

/** The Dockerfile with each base image replaced by what it resolved to (same order as baseImages). */
export function replaceBaseImages(dockerfile: string, bases: readonly BaseImage[], refs: readonly string[]): string {
  let text = dockerfile
  for (let index = bases.length - 1; index >= 0; index--) text = text.slice(0, bases[index]!.start) + refs[index] + text.slice(bases[index]!.end)
  return text
}
