/** The engine at DOCKER_HOST, and engineError against the real engine's own refusals (each mapped to its kind and field). */
import { describe, expect, test } from 'bun:test'
import { createEngine, engineError } from '../../src/docker/index.ts'
import { DomainError } from '../../src/lib/index.ts'
import { BUSYBOX_IMAGE, docker, TEST_LABEL } from '../support/docker.ts'
import { freePort } from '../support/ports.ts'
import { REPO_ROOT } from '../support/serve.ts'
import { engineTestFile, uniqueName } from './service-fixture.ts'

const { engine, fileLabel: FILE_LABEL, labels } = engineTestFile('docker-engine')

/** What engineError makes of the engine's answer to `run`. */
async function mapped(run: () => Promise<unknown>): Promise<{ kind: string; field: string | undefined; message: string }> {
  try {
    await run()
  } catch (error) {
    const result = engineError(error)
    expect(result).toBeInstanceOf(DomainError)
    const { kind, field, message } = result as DomainError
    return { kind, field, message }
  }
  throw new Error('expected the engine to refuse')
}

const create = (options: Record<string, unknown>) => engine.docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ['sleep', '60'], Labels: labels, ...options })

describe('createEngine', () => {
  test('the local socket answers, by default and as unix:// or a bare path', async () => {
    await createEngine(undefined).ping()
    if (process.env.DOCKER_HOST === undefined) {
      await createEngine('unix:///var/run/docker.sock').ping()
      await createEngine('/var/run/docker.sock').ping()
    }
    await engine.ping()
  })

  test('an engine that does not answer is unavailable, and the message never names the socket or address', async () => {
    const port = await freePort()
    for (const address of ['unix:///tmp/ohp-no-such-engine.sock', '/tmp/ohp-no-such-engine.sock', `tcp://127.0.0.1:${port}`, `http://127.0.0.1:${port}`]) {
      const error = await createEngine(address)
        .ping()
        .then(() => null, (caught: unknown) => caught)
      expect(error).toMatchObject({ kind: 'unavailable', message: 'the Docker engine does not answer' })
    }
  })
})

describe('dockerode is loaded only when used (10-14 MiB of RSS)', () => {
  /** In a fresh process: whether dockerode is loaded after createEngine, and after one ping of `address`. */
  async function loadedAround(address: string): Promise<{ created: boolean; pinged: boolean }> {
    const script = `
      import { createEngine } from ${JSON.stringify(`${REPO_ROOT}/src/docker/index.ts`)}
      const loaded = () => Object.keys(require.cache).some((key) => key.includes('/node_modules/dockerode/'))
      const engine = createEngine(${JSON.stringify(address)})
      const created = loaded()
      await engine.ping().catch(() => {})
      console.log(JSON.stringify({ created, pinged: loaded() }))`
    const proc = Bun.spawn([process.execPath, '-e', script], { cwd: REPO_ROOT, stdout: 'pipe', stderr: 'inherit' })
    return JSON.parse(await new Response(proc.stdout).text())
  }

  test('a socket that does not exist: never loaded (a host without Docker does not pay for it)', async () => {
    expect(await loadedAround('unix:///tmp/ohp-no-such-engine.sock')).toEqual({ created: false, pinged: false })
  })

  test('an engine that answers: loaded by the first ping', async () => {
    expect(await loadedAround(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock')).toEqual({ created: false, pinged: true })
  })
})

describe('engineError: the engine refusals', () => {
  test('no such container → not_found', async () => {
    expect(await mapped(() => engine.docker.getContainer('ohp-test-no-such-container').inspect())).toMatchObject({ kind: 'not_found', message: 'No such container: ohp-test-no-such-container' })
  })

  test('no such image → invalid image', async () => {
    expect(await mapped(() => create({ Image: 'ohp-test/no-such-image:1' }))).toMatchObject({ kind: 'invalid', field: 'image' })
  })

  test('a container name in use → conflict', async () => {
    const name = uniqueName('ohp-t-engine-dup')
    await create({ name })
    expect(await mapped(() => create({ name }))).toMatchObject({ kind: 'conflict' })
  }, 30_000)

  test('memory below the engine floor → invalid memory_limit', async () => {
    expect(await mapped(() => create({ HostConfig: { Memory: 1024 * 1024 } }))).toMatchObject({ kind: 'invalid', field: 'memory_limit', message: expect.stringContaining('6MB') })
  })

  test('more CPUs than the host has → invalid cpu_limit', async () => {
    expect(await mapped(() => create({ HostConfig: { NanoCpus: 1024e9 } }))).toMatchObject({ kind: 'invalid', field: 'cpu_limit' })
  })

  test('an unknown restart policy → invalid restart_policy; an unknown capability → invalid capabilities', async () => {
    expect(await mapped(() => create({ HostConfig: { RestartPolicy: { Name: 'sometimes' } } }))).toMatchObject({ kind: 'invalid', field: 'restart_policy' })
    expect(await mapped(() => create({ HostConfig: { CapAdd: ['BOGUS'] } }))).toMatchObject({ kind: 'invalid', field: 'capabilities' })
  })

  test('a missing bind source → invalid volumes', async () => {
    expect(await mapped(() => create({ HostConfig: { Mounts: [{ Type: 'bind', Source: '/nonexistent/ohp-test', Target: '/x' }] } }))).toMatchObject({ kind: 'invalid', field: 'volumes' })
  })

  test('at start: an unknown user → invalid user; a missing program → invalid command; a missing network → invalid networks', async () => {
    const user = await create({ User: 'ohp-no-such-user' })
    expect(await mapped(() => user.start())).toMatchObject({ kind: 'invalid', field: 'user' })
    const command = await create({ Cmd: ['/ohp-no-such-program'] })
    expect(await mapped(() => command.start())).toMatchObject({ kind: 'invalid', field: 'command' })
    const network = await create({ HostConfig: { NetworkMode: uniqueName('ohp-t-no-such-net') } })
    expect(await mapped(() => network.start())).toMatchObject({ kind: 'invalid', field: 'networks' })
  }, 30_000)

  test('a host port already published → conflict port_configs', async () => {
    const port = await freePort()
    const published = { ExposedPorts: { '80/tcp': {} }, HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } } }
    await (await create(published)).start()
    const second = await create(published)
    expect(await mapped(() => second.start())).toMatchObject({ kind: 'conflict', field: 'port_configs' })
  }, 30_000)

  test('removing a running container → conflict', async () => {
    const running = await create({})
    await running.start()
    expect(await mapped(() => running.remove())).toMatchObject({ kind: 'conflict' })
  }, 30_000)

  test('the engine unreachable mid-request → unavailable; an error of our own passes through unchanged', async () => {
    expect(engineError(Object.assign(new Error('connect ENOENT /run/secret/docker.sock'), { code: 'ENOENT' }))).toMatchObject({ kind: 'unavailable', message: 'the Docker engine does not answer' })
    const ours = new TypeError('a bug')
    expect(engineError(ours)).toBe(ours)
    const scrubbed = engineError({ statusCode: 500, json: { message: 'error dialing unix:///run/x/docker.sock and /var/run/other.sock' } }) as DomainError
    expect(scrubbed.kind).toBe('unavailable')
    expect(scrubbed.message).not.toContain('.sock')
    expect(scrubbed.message).not.toContain('unix://')
  })
})

test('every container here carries the test label', async () => {
  const ours = (await docker('ps', '-aq', '--filter', `label=${FILE_LABEL}`)).split('\n').filter(Boolean)
  const labelled = (await docker('ps', '-aq', '--filter', `label=${FILE_LABEL}`, '--filter', `label=${TEST_LABEL}`)).split('\n').filter(Boolean)
  expect(labelled).toEqual(ours)
})
