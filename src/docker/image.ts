/**
 * @module The image a service runs: one the engine has, one pulled from SERVICE_REGISTRY, or one built
 * from the service's inline Dockerfile. The engine is dockerd's legacy builder (20.10 has no BuildKit
 * without buildx), which streams JSON lines and reports a failed step in-band, with HTTP 200.
 */
import type { Readable } from 'node:stream'
import { sha256Hex } from '../lib/index.ts'
import { baseImages, dockerfileContext, replaceBaseImages } from './build-context.ts'
import { ownerLabels } from './container-spec.ts'
import { engineError, engineMessage, type Engine } from './engine.ts'
import { DockerServiceError } from './service-error.ts'

/** What a service asks for: exactly one of image and dockerfile (the schema sees to it). */
export interface ImageRequest {
  readonly name: string
  readonly image?: string
  readonly dockerfile?: string
  readonly build_args?: Readonly<Record<string, string>>
}

export interface ImageSource {
  /** SERVICE_REGISTRY: host[:port] that missing images are pulled from; null pulls nothing. */
  readonly registry: string | null
}

export interface ResolvedImage {
  /** The reference to create the container from. */
  readonly ref: string
  /** The image id (sha256:...), recorded so a service shows what it really runs. */
  readonly id: string
}

/** Builds are tagged under this repository, one tag per Dockerfile and build arguments. */
export const BUILD_REPOSITORY = 'ohp-service'

/**
 * The service's image, ready on the engine:
 * - an inline Dockerfile is built (tag ohp-service/<name>:<hash of the Dockerfile and build_args>; the same
 *   text and arguments reuse the image already built), a failed build → 'invalid' naming `dockerfile`;
 * - an image the engine has is used as it is;
 * - otherwise it is pulled from SERVICE_REGISTRY: `name:tag` as `<registry>/name:tag`, a reference that
 *   names the registry itself as given. A reference naming another registry, or any missing image when no
 *   registry is configured, is 'invalid' naming `image`: the server pulls from nowhere else (Docker Hub
 *   included), so the API cannot make the engine fetch from an arbitrary host.
 */
export async function ensureImage(engine: Engine, request: ImageRequest, source: ImageSource): Promise<ResolvedImage> {
  if (request.dockerfile !== undefined) return buildImage(engine, request, request.dockerfile, source.registry)
  if (request.image === undefined) throw new DockerServiceError('invalid', 'give exactly one of image and dockerfile', 'image')
  return resolveImage(engine, request.image, source.registry)
}

/** An image the engine has, as it is; else pulled from the registry (see ensureImage). */
async function resolveImage(engine: Engine, image: string, registry: string | null): Promise<ResolvedImage> {
  const local = await imageId(engine, image)
  if (local) return { ref: image, id: local }
  const ref = pullReference(image, registry)
  const pulled = (await imageId(engine, ref)) ?? (await pullImage(engine, ref))
  return { ref, id: pulled }
}

/** The image's id, or null when the engine does not have it. */
async function imageId(engine: Engine, ref: string): Promise<string | null> {
  try {
    return (await engine.docker.getImage(ref).inspect()).Id
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null
    throw engineError(error, 'image')
  }
}

/**
 * Where a missing image is pulled from. Docker reads the first path component as a registry host when it
 * has a "." or ":" or is "localhost"; a reference with no tag gets ":latest" (an empty tag would make the
 * engine pull every tag of the repository).
 */
export function pullReference(image: string, registry: string | null): string {
  const [first, ...rest] = image.split('/')
  const host = rest.length > 0 && (/[.:]/.test(first!) || first === 'localhost') ? first! : null
  if (registry === null) throw new DockerServiceError('invalid', `the engine has no image ${image}, and no SERVICE_REGISTRY is set to pull it from`, 'image')
  if (host !== null && host.toLowerCase() !== registry.toLowerCase()) {
    throw new DockerServiceError('invalid', `the engine has no image ${image}, and images are pulled only from SERVICE_REGISTRY (${registry})`, 'image')
  }
  const withHost = host === null ? `${registry}/${image}` : image
  const lastPart = withHost.slice(withHost.lastIndexOf('/') + 1)
  return lastPart.includes(':') || lastPart.includes('@') ? withHost : `${withHost}:latest`
}

async function pullImage(engine: Engine, ref: string): Promise<string> {
  let stream: Readable
  try {
    stream = (await engine.docker.pull(ref)) as Readable
  } catch (error) {
    throw pullError(error, ref)
  }
  const failure = (await readProgress(stream)).find((line) => line.error !== undefined)
  if (failure) throw pullError({ statusCode: 500, json: { message: failure.error } }, ref)
  const id = await imageId(engine, ref)
  if (!id) throw new DockerServiceError('unavailable', `the pull of ${ref} ended without the image`)
  return id
}

/** A registry that does not answer is 'unavailable'; one that has no such image makes the reference 'invalid'. */
function pullError(error: unknown, ref: string): Error {
  const message = engineMessage(error)
  if (/manifest unknown|not found|does not exist|pull access denied|unauthorized|no such image/i.test(message)) {
    return new DockerServiceError('invalid', `SERVICE_REGISTRY has no image ${ref}`, 'image')
  }
  if (/dial tcp|connection refused|no such host|timeout|i\/o timeout|server gave HTTP response|EOF/i.test(message)) {
    return new DockerServiceError('unavailable', `SERVICE_REGISTRY does not answer, so ${ref} cannot be pulled`)
  }
  return engineError(error, 'image')
}

async function buildImage(engine: Engine, request: ImageRequest, dockerfile: string, registry: string | null): Promise<ResolvedImage> {
  const buildArgs = Object.fromEntries(Object.entries(request.build_args ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  const tag = `${BUILD_REPOSITORY}/${request.name}:${sha256Hex(`${dockerfile}\0${JSON.stringify(buildArgs)}`).slice(0, 16)}`
  const existing = await imageId(engine, tag)
  if (existing) return { ref: tag, id: existing }
  const context = dockerfileContext(await withResolvedBases(engine, dockerfile, registry))
  let stream: Readable
  try {
    // docker-modem sends a Buffer as it is, with its Content-Length (the typings know only streams and paths).
    // rm/forcerm: intermediate containers go even when a step fails; labels mark the image as ours.
    const options = { t: tag, buildargs: buildArgs, labels: ownerLabels(request.name), rm: true, forcerm: true }
    stream = (await engine.docker.buildImage(context as unknown as NodeJS.ReadableStream, options)) as Readable
  } catch (error) {
    // An answer before any step runs refuses the Dockerfile itself ("dockerfile parse error line 1: ...").
    if (typeof (error as { statusCode?: unknown }).statusCode !== 'number') throw engineError(error)
    throw new DockerServiceError('invalid', `the build failed: ${engineMessage(error)}`, 'dockerfile')
  }
  const lines = await readProgress(stream)
  const failure = lines.find((line) => line.error !== undefined)
  if (failure) throw new DockerServiceError('invalid', `the build failed: ${failure.error!.trim()}`, 'dockerfile')
  const id = await imageId(engine, tag)
  if (!id) throw new DockerServiceError('invalid', `the build ended without an image: ${lastOutput(lines)}`, 'dockerfile')
  return { ref: tag, id }
}

/**
 * The Dockerfile with every FROM image made present first, by the same rule as a service's image (the
 * engine's own, else pulled from SERVICE_REGISTRY) and named as it was found, so the builder never pulls
 * by itself (it would go to Docker Hub). A base that cannot be had is 'invalid' naming `dockerfile`.
 */
async function withResolvedBases(engine: Engine, dockerfile: string, registry: string | null): Promise<string> {
  const bases = baseImages(dockerfile)
  const refs: string[] = []
  for (const base of bases) {
    try {
      refs.push((await resolveImage(engine, base.ref, registry)).ref)
    } catch (error) {
      if (error instanceof DockerServiceError && error.field === 'image') throw new DockerServiceError(error.kind, `FROM ${base.ref}: ${error.message}`, 'dockerfile')
      throw error
    }
  }
  return replaceBaseImages(dockerfile, bases, refs)
}

interface ProgressLine {
  readonly stream?: string
  readonly status?: string
  readonly error?: string
}

/** The engine's JSON-lines progress (pull and build) until the stream ends. */
async function readProgress(stream: Readable): Promise<ProgressLine[]> {
  const lines: ProgressLine[] = []
  let pending = ''
  const take = (text: string) => {
    const trimmed = text.trim()
    if (trimmed) lines.push(JSON.parse(trimmed) as ProgressLine)
  }
  for await (const chunk of stream) {
    pending += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8')
    let newline: number
    while ((newline = pending.indexOf('\n')) >= 0) {
      take(pending.slice(0, newline))
      pending = pending.slice(newline + 1)
    }
  }
  take(pending)
  return lines
}

function lastOutput(lines: readonly ProgressLine[]): string {
  return lines.map((line) => line.stream ?? line.status ?? '').filter((text) => text.trim()).slice(-3).join(' ').trim()
}
