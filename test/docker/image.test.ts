/** A service's image: the engine's own, pulled from SERVICE_REGISTRY (Debian's docker-registry on loopback), or built from an inline Dockerfile. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BUILD_REPOSITORY, ensureImage, pullReference } from '../../src/docker/index.ts'
import { baseImages } from '../../src/docker/build-context.ts'
import { BUSYBOX_IMAGE, docker, startRegistry, TEST_LABEL, type TestRegistry } from '../support/docker.ts'
import { engineTestFile, uniqueName } from './service-fixture.ts'

const { engine, fileLabel: FILE_LABEL } = engineTestFile('docker-image')
const name = uniqueName('ohp-t-img')
let registry: TestRegistry
let busyboxId: string
/** A repository in the registry only (its local tag removed after the push), so using it means pulling it. */
let remoteRepo: string

beforeAll(async () => {
  busyboxId = await docker('image', 'inspect', '--format', '{{.Id}}', BUSYBOX_IMAGE)
  registry = await startRegistry()
  remoteRepo = `ohp-test-pull/${name}`
  const pushed = await registry.push(BUSYBOX_IMAGE, `${remoteRepo}:v1`)
  await docker('rmi', pushed)
}, 120_000)

afterAll(async () => {
  const built = (await docker('image', 'ls', '-q', `${BUILD_REPOSITORY}/${name}`)).split('\n').filter(Boolean)
  if (built.length > 0) await docker('rmi', '-f', ...new Set(built))
  for (const ref of [`${registry.url}/${remoteRepo}:v1`, `${registry.url}/${remoteRepo}:latest`]) await docker('rmi', ref).catch(() => {})
  await registry.stop()
})

const run = (image: string) => docker('run', '--rm', '--label', TEST_LABEL, '--label', FILE_LABEL, image)

describe('pullReference', () => {
  test('a name without a registry host is pulled from SERVICE_REGISTRY, with :latest when untagged', () => {
    expect(pullReference('app', 'reg.local:5000')).toBe('reg.local:5000/app:latest')
    expect(pullReference('team/app:1.2', 'reg.local:5000')).toBe('reg.local:5000/team/app:1.2')
    expect(pullReference('app@sha256:abcd', 'reg.local:5000')).toBe('reg.local:5000/app@sha256:abcd')
    expect(pullReference('reg.local:5000/app', 'reg.local:5000')).toBe('reg.local:5000/app:latest')
    expect(pullReference('REG.local:5000/app:2', 'reg.local:5000')).toBe('REG.local:5000/app:2')
  })

  test('another registry host, or no registry at all: invalid image', () => {
    for (const [image, configured] of [
      ['docker.io/library/alpine', 'reg.local:5000'],
      ['localhost/app', 'reg.local:5000'],
      ['evil.example:443/app', 'reg.local:5000'],
      ['app', null],
      ['reg.local:5000/app', null],
    ] as const) {
      expect(() => pullReference(image, configured)).toThrow(expect.objectContaining({ kind: 'invalid', field: 'image' }))
    }
  })
})

describe('the engine own image', () => {
  test('is used as it is, with no registry needed', async () => {
    expect(await ensureImage(engine, { name, image: BUSYBOX_IMAGE }, { registry: null })).toEqual({ ref: BUSYBOX_IMAGE, id: busyboxId })
  })

  test('a missing image with no registry configured is invalid image', async () => {
    await expect(ensureImage(engine, { name, image: 'ohp-test/absent:1' }, { registry: null })).rejects.toMatchObject({ kind: 'invalid', field: 'image' })
  })
})

describe('pull from SERVICE_REGISTRY', () => {
  test('a name the engine lacks is pulled as <registry>/name, and runs', async () => {
    const resolved = await ensureImage(engine, { name, image: `${remoteRepo}:v1` }, { registry: registry.url })
    expect(resolved).toEqual({ ref: `${registry.url}/${remoteRepo}:v1`, id: busyboxId })
    expect(await docker('image', 'inspect', '--format', '{{.Id}}', resolved.ref)).toBe(busyboxId)
  }, 30_000)

  test('an image the registry does not have is invalid image', async () => {
    await expect(ensureImage(engine, { name, image: `${remoteRepo}:absent` }, { registry: registry.url })).rejects.toMatchObject({ kind: 'invalid', field: 'image' })
  }, 30_000)

  test('a reference naming another registry is refused without pulling', async () => {
    await expect(ensureImage(engine, { name, image: `127.0.0.2:1/${remoteRepo}:v1` }, { registry: registry.url })).rejects.toMatchObject({ kind: 'invalid', field: 'image' })
  })

  test('a registry that does not answer is unavailable', async () => {
    await expect(ensureImage(engine, { name, image: 'ohp-test/absent:1' }, { registry: '127.0.0.1:1' })).rejects.toMatchObject({ kind: 'unavailable' })
  })
})

describe('build from an inline Dockerfile', () => {
  const dockerfile = `FROM ${BUSYBOX_IMAGE}\nARG GREETING=unset\nRUN echo "built with $GREETING" > /built.txt\nCMD ["cat", "/built.txt"]\n`

  test('builds with the build arguments, tagged by a hash of both; the same text and arguments reuse the image', async () => {
    const built = await ensureImage(engine, { name, dockerfile, build_args: { GREETING: 'hello' } }, { registry: null })
    expect(built.ref).toMatch(new RegExp(`^${BUILD_REPOSITORY}/${name}:[0-9a-f]{16}$`))
    expect(built.id).toStartWith('sha256:')
    expect(await run(built.ref)).toBe('built with hello')
    expect(await docker('image', 'inspect', '--format', '{{index .Config.Labels "io.oauth-https-proxy.service"}}', built.ref)).toBe(name)
    expect(await ensureImage(engine, { name, dockerfile, build_args: { GREETING: 'hello' } }, { registry: null })).toEqual(built)
    const other = await ensureImage(engine, { name, dockerfile, build_args: { GREETING: 'bye' } }, { registry: null })
    expect(other.ref).not.toBe(built.ref)
    expect(await run(other.ref)).toBe('built with bye')
  }, 60_000)

  test('the build context holds the Dockerfile alone', async () => {
    const built = await ensureImage(engine, { name, dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY . /ctx/\nCMD ["ls", "-A", "/ctx"]\n` }, { registry: null })
    expect(await run(built.ref)).toBe('Dockerfile')
  }, 60_000)

  test('a failing step is invalid dockerfile with the builder message', async () => {
    await expect(ensureImage(engine, { name, dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN exit 3\n` }, { registry: null })).rejects.toMatchObject({
      kind: 'invalid',
      field: 'dockerfile',
      message: "the build failed: The command '/bin/sh -c exit 3' returned a non-zero code: 3",
    })
  }, 60_000)

  test('a Dockerfile the parser refuses is invalid dockerfile', async () => {
    await expect(ensureImage(engine, { name, dockerfile: 'FOO bar\n' }, { registry: null })).rejects.toMatchObject({ kind: 'invalid', field: 'dockerfile', message: expect.stringContaining('unknown instruction: FOO') })
  }, 30_000)

  test('a FROM image the engine lacks and no registry: invalid dockerfile, and the builder never tries Docker Hub', async () => {
    await expect(ensureImage(engine, { name, dockerfile: 'FROM ohp-test/absent:1\n' }, { registry: null })).rejects.toMatchObject({ kind: 'invalid', field: 'dockerfile', message: expect.stringMatching(/^FROM ohp-test\/absent:1: /) })
  })

  test('a FROM image is pulled from SERVICE_REGISTRY first', async () => {
    await docker('rmi', `${registry.url}/${remoteRepo}:latest`).catch(() => {})
    await docker('tag', BUSYBOX_IMAGE, `${registry.url}/${remoteRepo}:latest`)
    await docker('push', '--quiet', `${registry.url}/${remoteRepo}:latest`)
    await docker('rmi', `${registry.url}/${remoteRepo}:latest`)
    const built = await ensureImage(engine, { name, dockerfile: `FROM ${remoteRepo} AS base\nFROM base\nCMD ["echo", "from the registry"]\n` }, { registry: registry.url })
    expect(await run(built.ref)).toBe('from the registry')
    expect(await docker('image', 'inspect', '--format', '{{.Id}}', `${registry.url}/${remoteRepo}:latest`)).toBe(busyboxId)
  }, 60_000)
})

test('baseImages: FROM images, not scratch, earlier stages or ARG-built references', () => {
  const dockerfile = 'ARG V=1\nFROM --platform=linux/amd64 alpine:3 AS build\nfrom build\nFROM scratch\nFROM busybox:${V}\n  from reg:5000/x/y@sha256:ab as Final\nFROM final\n'
  expect(baseImages(dockerfile).map((base) => [base.ref, dockerfile.slice(base.start, base.end)])).toEqual([
    ['alpine:3', 'alpine:3'],
    ['reg:5000/x/y@sha256:ab', 'reg:5000/x/y@sha256:ab'],
  ])
})
