/** @module The Docker test helpers against the real engine: the offline image, busybox httpd, the loopback registry, clean-up. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  BUSYBOX_IMAGE,
  docker,
  dockerAvailable,
  ensureBusyboxImage,
  HTTPD_COMMAND,
  INDEX_HTML,
  inspect,
  makeWwwDir,
  removeTestContainers,
  requireDocker,
  runHttpd,
  startRegistry,
  TEST_LABEL,
} from '../support/docker.ts'

// Labels of this file's own objects, so clean-up here never touches another test file's containers.
const FILE_LABEL = 'ohp-test.file=docker-support'

beforeAll(async () => {
  await requireDocker()
  await ensureBusyboxImage()
}, 120_000)
afterAll(() => removeTestContainers(FILE_LABEL))

describe('engine', () => {
  test('answers, and docker() reports a failing command with its stderr', async () => {
    expect(await dockerAvailable()).toBe(true)
    await expect(docker('inspect', '--type', 'container', 'ohp-test-no-such-container')).rejects.toThrow(/No such container/)
  })
})

describe('busybox image', () => {
  test('exists once built, and asking again (concurrently) keeps the same image', async () => {
    const before = await docker('image', 'inspect', '--format', '{{.Id}}', BUSYBOX_IMAGE)
    const again = await Promise.all([ensureBusyboxImage(), ensureBusyboxImage()])
    expect(again).toEqual([BUSYBOX_IMAGE, BUSYBOX_IMAGE])
    expect(await docker('image', 'inspect', '--format', '{{.Id}}', BUSYBOX_IMAGE)).toBe(before)
    expect(await docker('image', 'inspect', '--format', '{{json .Config.Cmd}}', BUSYBOX_IMAGE)).toBe('["/bin/sh"]')
  })

  test('runs echo, has a working /bin/busybox, nobody as 65534 and a writable /tmp', async () => {
    const out = await docker('run', '--rm', '--label', TEST_LABEL, '--label', FILE_LABEL, BUSYBOX_IMAGE, 'sh', '-c', 'echo hello; /bin/busybox true && echo binary-ok; id -u nobody; touch /tmp/x && echo tmp-ok; cat /www/index.html')
    expect(out.split('\n')).toEqual(['hello', 'binary-ok', '65534', 'tmp-ok', INDEX_HTML.trim()])
  })

  test('runs as user nobody', async () => {
    expect(await docker('run', '--rm', '--label', TEST_LABEL, '--label', FILE_LABEL, '--user', 'nobody', BUSYBOX_IMAGE, 'id')).toBe('uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)')
  })
})

describe('httpd', () => {
  test('serves the image /www on a port published on 127.0.0.1', async () => {
    const httpd = await runHttpd({ args: ['--label', FILE_LABEL] })
    try {
      const res = await fetch(`${httpd.url}/index.html`)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe(INDEX_HTML)
      expect((await fetch(`${httpd.url}/missing.html`)).status).toBe(404)
      const info = await inspect(httpd.id)
      expect(info.Config.Labels).toMatchObject({ 'ohp-test': 'true' })
      expect(info.Config.Cmd).toEqual([...HTTPD_COMMAND])
      expect(info.HostConfig.PortBindings?.['8080/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '' }])
    } finally {
      await httpd.stop()
    }
    await expect(docker('inspect', '--type', 'container', httpd.id)).rejects.toThrow(/No such container/)
  })

  test('serves a per-test document root', async () => {
    const www = makeWwwDir({ 'index.html': 'per-test\n', 'a/b.txt': 'nested\n' })
    const httpd = await runHttpd({ www: www.path, args: ['--label', FILE_LABEL] })
    try {
      expect(await (await fetch(`${httpd.url}/`)).text()).toBe('per-test\n')
      expect(await (await fetch(`${httpd.url}/a/b.txt`)).text()).toBe('nested\n')
    } finally {
      await httpd.stop()
      www.dispose()
    }
  })
})

describe('registry', () => {
  test('push, remove the local image, pull by reference, run it', async () => {
    const registry = await startRegistry()
    try {
      expect(registry.url).toMatch(/^127\.0\.0\.1:\d+$/)
      const ref = await registry.push(BUSYBOX_IMAGE, 'ohp/pushed:v1')
      expect(ref).toBe(`${registry.url}/ohp/pushed:v1`)
      const tags = (await (await fetch(`http://${registry.url}/v2/ohp/pushed/tags/list`)).json()) as { tags: string[] }
      expect(tags.tags).toEqual(['v1'])
      await docker('rmi', ref)
      await expect(docker('image', 'inspect', ref)).rejects.toThrow()
      await docker('pull', '--quiet', ref)
      expect(await docker('run', '--rm', '--label', TEST_LABEL, '--label', FILE_LABEL, ref, 'echo', 'pulled')).toBe('pulled')
      expect(await registry.push(BUSYBOX_IMAGE, 'ohp/untagged')).toBe(`${registry.url}/ohp/untagged:latest`)
    } finally {
      await registry.stop()
    }
    await expect(docker('image', 'inspect', `${registry.url}/ohp/pushed:v1`)).rejects.toThrow()
    await expect(fetch(`http://${registry.url}/v2/`)).rejects.toThrow()
  }, 60_000)
})

describe('removeTestContainers', () => {
  test('removes labelled containers, networks and volumes, and leaves others alone', async () => {
    const label = `ohp-test.cleanup=${process.pid}`
    const labelled = await docker('create', '--label', TEST_LABEL, '--label', label, BUSYBOX_IMAGE, 'true')
    const other = await docker('create', '--label', FILE_LABEL, BUSYBOX_IMAGE, 'true')
    const network = await docker('network', 'create', '--label', label, `ohp-test-net-${process.pid}`)
    const volume = await docker('volume', 'create', '--label', label, `ohp-test-vol-${process.pid}`)
    await removeTestContainers(label)
    await expect(docker('inspect', '--type', 'container', labelled)).rejects.toThrow(/No such container/)
    await expect(docker('network', 'inspect', network)).rejects.toThrow()
    await expect(docker('volume', 'inspect', volume)).rejects.toThrow()
    expect((await inspect(other)).Id).toBe(other)
  })
})
