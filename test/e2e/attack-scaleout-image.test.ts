/**
 * The container image (#15) run the ways users run it that its own test does not: as a random uid
 * (`--user 12345`, as OpenShift and hardened hosts do) and with WORKERS=2, always with a read-only root
 * and no capabilities. A /data the user cannot write (the image's own, owned by 10001; a bind mount
 * owned by another uid takes the same path) stops the start-up with one line naming the directory, the
 * process's uid and the owner to chown to (it said only "unable to open database file"); on a /data it
 * can write, the image serves with two workers and `docker stop` exits 0 within the drain + 1 s with a
 * client connected.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { chmodSync } from 'node:fs'
import { connect } from 'node:net'
import { ensureAppImage } from '../support/app-image.ts'
import { docker, requireDocker, TEST_LABEL } from '../support/docker.ts'
import { waitFor } from '../support/ports.ts'
import { cleanupSpawned, lines, makeTempDir } from '../support/serve.ts'

setDefaultTimeout(30_000)

const RANDOM_UID = 12345
const IMAGE_UID = 10001
const DRAIN_SEC = 2
/** As compose.yaml runs it: nothing writable but /data (and /tmp), no capabilities. */
const HARDENED = ['--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--sysctl', 'net.ipv4.ip_unprivileged_port_start=0']

let image: string
const containers: string[] = []

/** `docker run` in the foreground until the container exits: its exit code and output. */
async function runToExit(args: string[]): Promise<{ code: number; stderr: string }> {
  const name = `ohp-attack-image-${process.pid}-${containers.length}`
  containers.push(name)
  const proc = Bun.spawn(['docker', 'run', '--name', name, '--label', TEST_LABEL, ...HARDENED, ...args, image], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const timer = setTimeout(() => proc.kill('SIGKILL'), 25_000)
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  clearTimeout(timer)
  return { code, stderr: stdout + stderr }
}

/** The container's output: the server logs to stderr, which `docker logs` passes on as stderr. */
async function containerLog(name: string): Promise<string> {
  const proc = Bun.spawn(['docker', 'logs', name], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return stdout + stderr
}

beforeAll(async () => {
  await requireDocker()
  image = await ensureAppImage()
}, 240_000)

afterAll(async () => {
  if (containers.length > 0) await docker('rm', '-f', '-v', ...containers).catch(() => {})
  await cleanupSpawned()
})

describe('a /data the user cannot write', () => {
  test('--user 12345 on the image\'s own /data (owned by 10001): exit 1, one line naming the directory, the uid and the owner', async () => {
    const { code, stderr } = await runToExit(['--user', String(RANDOM_UID)])
    console.log(stderr.trim())
    expect(code).toBe(1)
    expect(lines(stderr)).toHaveLength(1)
    expect(stderr).toContain('DATA_DIR')
    expect(stderr).toContain(`/data is not writable by this process (uid ${RANDOM_UID}`)
    expect(stderr).toContain(`belongs to uid ${IMAGE_UID}`)
  })
})

describe('a /data the user can write', () => {
  test('--user 12345, WORKERS=2: healthy with both workers serving, and docker stop exits 0 within the drain + 1 s with a slow client connected', async () => {
    const dir = makeTempDir('ohp-attack-data-')
    chmodSync(dir, 0o777)
    const name = `ohp-attack-image-${process.pid}-workers`
    containers.push(name)
    await docker('run', '-d', '--name', name, '--label', TEST_LABEL, ...HARDENED, '--user', String(RANDOM_UID), '-v', `${dir}:/data`, '-p', '127.0.0.1::9000', '-e', 'WORKERS=2', '-e', `SHUTDOWN_DRAIN=${DRAIN_SEC}s`, '-e', 'LOG_LEVEL=info', image)
    const apiPort = Number(/^127\.0\.0\.1:(\d+)$/m.exec(await docker('port', name, '9000/tcp'))?.[1])
    await waitFor(async () => (await containerLog(name)).includes('"serving with workers"'), { timeoutMs: 30_000, intervalMs: 250, what: 'both workers serving in the container' }).catch(async (error) => {
      throw new Error(`${(error as Error).message}\n--- container log ---\n${await containerLog(name)}`)
    })
    expect((await fetch(`http://127.0.0.1:${apiPort}/health`)).status).toBe(200)
    expect(await docker('exec', name, 'oauth-https-proxy', 'health')).toContain('ok')

    // A client that never finishes its request head is connected during the stop.
    const slow = connect(apiPort, '127.0.0.1')
    slow.on('error', () => {})
    slow.write('GET /health HTTP/1.1\r\nHost: x\r\n')
    await Bun.sleep(300)
    const stoppedAtMs = performance.now()
    await docker('stop', '-t', '10', name)
    const afterMs = performance.now() - stoppedAtMs
    slow.destroy()
    const [state] = JSON.parse(await docker('inspect', name)) as { State: { ExitCode: number } }[]
    console.log(`docker stop: exit ${state!.State.ExitCode} after ${afterMs.toFixed(0)} ms`)
    expect(state!.State.ExitCode).toBe(0)
    expect(afterMs).toBeLessThanOrEqual((DRAIN_SEC + 1) * 1000)
  }, 60_000)
})
