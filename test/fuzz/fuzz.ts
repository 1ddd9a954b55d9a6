/**
 * @module The fuzz suites' one way to run a property (#13): seeded, bounded in runs and in time, and
 * reproducible. Every property of a run uses the same seed: DEFAULT_FUZZ_SEED unless FUZZ_SEED names
 * another, so two CI runs of one commit try the same inputs in the same order and a red run stays red
 * when run again. FUZZ_SEED=random explores with a fresh seed. A failure names its seed, the fast-check
 * path to the shrunk counterexample, and the command that replays it; FUZZ_RUNS overrides how many
 * inputs each property tries.
 *
 * CI budget: each property stops after its time limit (a success with fewer runs, never a failure), so
 * the suites stay within ~60 s in all even on a slower machine. What a run tries is then a prefix of the
 * seed's one sequence, shorter on a slower machine; a replay (FUZZ_SEED set) has no time limit, so it
 * goes at least as far as the run that failed.
 */
import fc from 'fast-check'

const envSeed = process.env.FUZZ_SEED
const envRuns = process.env.FUZZ_RUNS

/** The seed of a run that names none: fixed, so a CI run is reproducible (any value would do; changing it explores anew). */
export const DEFAULT_FUZZ_SEED = 20_260_113
const isRandom = envSeed === 'random'
/** A seed named in FUZZ_SEED replays a run; "random" or none is a run of its own (with the time limit). */
const isReplay = envSeed !== undefined && envSeed !== '' && !isRandom
if (isReplay && !/^-?[0-9]+$/.test(envSeed!)) throw new Error(`FUZZ_SEED must be an integer (a seed a failure printed) or "random", not ${JSON.stringify(envSeed)}`)

/** The seed every property of this run uses. */
export const FUZZ_SEED: number = isReplay ? Number(envSeed) | 0 : isRandom ? (Math.random() * 0x7fffffff) | 0 : DEFAULT_FUZZ_SEED
/** FUZZ_RUNS, or undefined: each property's own default. */
export const FUZZ_RUNS: number | undefined = envRuns !== undefined && envRuns !== '' ? Math.max(1, Number(envRuns) | 0) : undefined

/**
 * How long one property may run before it stops, successfully, with the runs it has done. The suites
 * hold 28 time-limited properties: at most 28 × 1.5 s = 42 s in all, whatever the machine.
 */
export const PROPERTY_TIME_LIMIT_MS = 1_500
/** bun:test's timeout for a test holding one or more properties. */
export const FUZZ_TEST_TIMEOUT_MS = 30_000

export interface FuzzOptions {
  /** Inputs to try (FUZZ_RUNS overrides). */
  readonly runs?: number
  /** A fixed seed instead of the run's (the seed-replay test). */
  readonly seed?: number
  /** Called with the report on failure instead of throwing (the seed-replay test). */
  readonly onFailure?: (message: string, details: fc.RunDetails<unknown>) => void
}

/** Runs `property`; throws with its seed, path, counterexample and the replay command when it fails. */
export function fuzz<Ts>(name: string, property: fc.IProperty<Ts>, options: FuzzOptions = {}): fc.RunDetails<Ts> {
  const seed = options.seed ?? FUZZ_SEED
  const numRuns = FUZZ_RUNS ?? options.runs ?? 1_000
  const parameters: fc.Parameters<Ts> = {
    seed,
    numRuns,
    plugins: isReplay || options.seed !== undefined ? [] : [fc.interruptAfterTimeLimit(PROPERTY_TIME_LIMIT_MS)],
  }
  const details: fc.RunDetails<Ts> = fc.check(property, parameters)
  if (details.failed) {
    const message =
      `fuzz property "${name}" failed with seed ${details.seed}, path "${details.counterexamplePath}".\n` +
      `Replay: FUZZ_SEED=${details.seed} FUZZ_RUNS=${numRuns} node_modules/.bin/bun test test/fuzz/ (every property of a run shares its seed)\n` +
      (fc.defaultReportMessage(details) ?? '')
    if (options.onFailure) options.onFailure(message, details as fc.RunDetails<unknown>)
    else throw new Error(message)
  }
  return details
}

/** One mutation of a byte string, as positions relative to its length (so any input takes any mutation). */
type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly byte: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'repeat'; readonly at: number; readonly length: number; readonly times: number }

/** Bytes that change how text protocols are read: line ends, separators, NUL, obs-text, TLS and PROXY markers. */
export const INTERESTING_BYTES = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x2c, 0x2e, 0x2f, 0x30, 0x3a, 0x3b, 0x3d, 0x5b, 0x5d, 0x5f, 0x7f, 0x80, 0xff, 0x16, 0x03, 0x01]

const byteArb = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...INTERESTING_BYTES))
const positionArb = fc.nat()

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: positionArb, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: positionArb, byte: byteArb }),
  fc.record({ kind: fc.constant('insert' as const), at: positionArb, bytes: fc.array(byteArb, { minLength: 1, maxLength: 8 }).map((b) => Uint8Array.from(b)) }),
  fc.record({ kind: fc.constant('delete' as const), at: positionArb, length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: positionArb }),
  fc.record({ kind: fc.constant('repeat' as const), at: positionArb, length: fc.integer({ min: 1, max: 16 }), times: fc.integer({ min: 2, max: 64 }) }),
)

function applyMutation(bytes: Uint8Array, mutation: Mutation): Uint8Array {
  const at = bytes.length === 0 ? 0 : mutation.at % (bytes.length + 1)
  switch (mutation.kind) {
    case 'flip':
    case 'set': {
      if (bytes.length === 0) return bytes
      const out = bytes.slice()
      const i = at % bytes.length
      out[i] = mutation.kind === 'flip' ? out[i]! ^ (1 << mutation.bit) : mutation.byte
      return out
    }
    case 'insert':
      return concatBytes(bytes.subarray(0, at), mutation.bytes, bytes.subarray(at))
    case 'delete':
      return concatBytes(bytes.subarray(0, at), bytes.subarray(at + mutation.length))
    case 'truncate':
      return bytes.subarray(0, at)
    case 'repeat': {
      const slice = bytes.subarray(at, at + mutation.length)
      return concatBytes(bytes.subarray(0, at), ...new Array<Uint8Array>(mutation.times).fill(slice), bytes.subarray(at))
    }
  }
}

/** A sample from `corpus` (known-good inputs, RFC examples, test vectors) with up to `maxMutations` mutations. */
export function mutated(corpus: fc.Arbitrary<Uint8Array>, maxMutations = 6): fc.Arbitrary<Uint8Array> {
  return fc.tuple(corpus, fc.array(mutationArb, { maxLength: maxMutations })).map(([base, mutations]) => mutations.reduce(applyMutation, base))
}

/** Random bytes, biased towards the interesting ones. */
export function randomBytes(maxLength = 512): fc.Arbitrary<Uint8Array> {
  return fc.array(byteArb, { maxLength }).map((bytes) => Uint8Array.from(bytes))
}

/** Fragments of a protocol's own vocabulary joined at random: reaches deeper into a parser than random bytes. */
export function soup(words: readonly string[], maxWords = 40): fc.Arbitrary<Uint8Array> {
  return fc.array(fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 6 })), { maxLength: maxWords }).map((parts) => latin1(parts.join('')))
}

/** Split points that cut `length` bytes into pieces, as a property sees a stream arriving. */
export function splits(maxPieces = 8): fc.Arbitrary<number[]> {
  return fc.array(fc.nat(), { maxLength: maxPieces })
}

/** `bytes` cut at the given points (taken modulo its length, sorted). */
export function cut(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => (bytes.length === 0 ? 0 : p % bytes.length)))].sort((a, b) => a - b)
  const pieces: Uint8Array[] = []
  let start = 0
  for (const point of at) {
    if (point <= start) continue
    pieces.push(bytes.subarray(start, point))
    start = point
  }
  pieces.push(bytes.subarray(start))
  return pieces
}

export function latin1(text: string): Uint8Array {
  return Buffer.from(text, 'latin1')
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
