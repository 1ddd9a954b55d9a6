/**
 * The manager's housekeeping and read paths (#14) against the real engine: cleanup removes our orphaned
 * containers and frees claims no service holds, reports services whose container is gone and recreates
 * nothing; containers we did not create are listed and never touched; health, logs and stats come from
 * the engine.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { createServiceNames, keys } from '../../src/store/index.ts'
import { BUSYBOX_IMAGE, docker, HTTPD_PORT, TEST_LABEL } from '../support/docker.ts'
import { waitFor } from '../support/ports.ts'
import { httpdService, managerForFile, serviceName } from './manager-fixture.ts'

// Containers are created, stopped and recreated here: a loaded 2-core machine needs more than 5 s for some steps.
setDefaultTimeout(30_000)

const file = managerForFile('manager-cleanup', { reconcile: true })
const { labels, fileLabel: FILE_LABEL } = file

describe('cleanup', () => {
  test("removes this deployment's containers no service runs, frees unheld claims, reports missing containers; foreign ones (another deployment's too) are listed and left alone", async () => {
    const kept = await file.node.manager.create(httpdService(serviceName('kept'), { labels }), null)
    const lost = await file.node.manager.create(httpdService(serviceName('lost'), { labels }), null)
    const ours = ['--label', 'io.oauth-https-proxy.managed=true', '--label', `io.oauth-https-proxy.deployment=${(await file.store.get(keys.dockerDeployment()))!.value}`]
    // Left by a crash: a container of ours whose service was never stored, and a port claim of nobody.
    const orphanName = serviceName('orphan')
    const orphan = await docker('run', '-d', '--name', orphanName, '--label', TEST_LABEL, '--label', FILE_LABEL, ...ours, '--label', `io.oauth-https-proxy.service=${orphanName}`, BUSYBOX_IMAGE, 'sleep', '600')
    await file.store.put(keys.portClaim('service', 1), 'gone-service')
    const foreign = await docker('run', '-d', '--label', TEST_LABEL, '--label', FILE_LABEL, BUSYBOX_IMAGE, 'sleep', '600')
    // Another server on the same engine, with a store of its own: a service name it has and we do not.
    const elsewhere = await docker('run', '-d', '--label', TEST_LABEL, '--label', FILE_LABEL, '--label', 'io.oauth-https-proxy.managed=true', '--label', 'io.oauth-https-proxy.deployment=another', '--label', `io.oauth-https-proxy.service=${orphanName}`, BUSYBOX_IMAGE, 'sleep', '600')
    await docker('rm', '-f', lost.container_id!)

    const listed = await file.node.manager.foreign()
    expect(listed.find((container) => container.container_id === foreign)).toMatchObject({ image: BUSYBOX_IMAGE, state: 'running' })
    expect(listed.some((container) => container.container_id === elsewhere)).toBe(true)
    expect(listed.some((container) => container.container_id === orphan || container.container_id === kept.container_id)).toBe(false)

    const report = await file.node.manager.cleanup()
    expect(report.containers_removed).toEqual([orphanName])
    expect(await docker('ps', '-aq', '--no-trunc', '--filter', `id=${orphan}`)).toBe('')
    expect(report.ports_released).toEqual([1])
    expect(await file.store.get(keys.portClaim('service', 1))).toBeNull()
    expect(report.services_missing).toEqual([lost.service_name])
    expect((await file.node.manager.get(lost.service_name))!.status).toBe('missing')
    // What runs is untouched: the kept service, its claim, the foreign container.
    expect((await file.node.manager.get(kept.service_name))!.status).toBe('running')
    expect(await file.store.get(keys.portClaim('service', kept.ports[0]!.host_port))).not.toBeNull()
    for (const untouched of [foreign, elsewhere]) expect(await docker('inspect', '--format', '{{.State.Running}}', untouched)).toBe('true')
    // Nothing recreated: the lost service still has no container.
    expect(await docker('ps', '-aq', '--filter', `label=io.oauth-https-proxy.service=${lost.service_name}`)).toBe('')
    await file.node.manager.remove(kept.service_name)
    await file.node.manager.remove(lost.service_name)
  })

  test('a creation in flight (its name claimed, no document yet) keeps its container and claims', async () => {
    const name = serviceName('inflight')
    const claim = await createServiceNames(file.store, { nowMs: () => Date.now() }).claim(name, 'docker')
    expect(claim.held).toBe(true)
    const deployment = (await file.store.get(keys.dockerDeployment()))!.value
    const container = await docker('run', '-d', '--label', TEST_LABEL, '--label', FILE_LABEL, '--label', 'io.oauth-https-proxy.managed=true', '--label', `io.oauth-https-proxy.deployment=${deployment}`, '--label', `io.oauth-https-proxy.service=${name}`, BUSYBOX_IMAGE, 'sleep', '600')
    await file.store.put(keys.portClaim('service', 2), name)
    const report = await file.node.manager.cleanup()
    expect(report).toEqual({ containers_removed: [], services_missing: [], ports_released: [], volumes_unused: [] })
    expect(await docker('inspect', '--format', '{{.State.Running}}', container)).toBe('true')
    await file.store.del(keys.portClaim('service', 2))
  })
})

describe('what the engine reports', () => {
  test('health_status follows the healthcheck; logs have both streams in order; stats have real numbers', async () => {
    const name = serviceName('health')
    const service = await file.node.manager.create(
      httpdService(name, {
        labels,
        command: ['sh', '-c', `echo out-1; sleep 0.2; echo err-1 >&2; sleep 0.2; echo out-2; exec httpd -f -p ${HTTPD_PORT} -h /www`],
        healthcheck: { test: ['CMD-SHELL', `wget -q -O /dev/null http://127.0.0.1:${HTTPD_PORT}/`], interval_sec: 1, timeout_sec: 2, retries: 3 },
      }),
      null,
    )
    expect(service.health_status === 'starting' || service.health_status === 'healthy').toBe(true)
    await waitFor(async () => (await file.node.manager.get(name))?.health_status === 'healthy', { timeoutMs: 10_000, what: 'healthy' })
    const lines = await file.node.manager.logs(name, {})
    expect(lines.map(({ stream, text }) => `${stream}:${text}`)).toEqual(['stdout:out-1', 'stderr:err-1', 'stdout:out-2'])
    const stats = await file.node.manager.stats(name)
    expect(stats.memory_usage).toBeGreaterThan(0)
    expect(stats.memory_limit).toBe(32 * 1024 * 1024)
    expect(stats.pids).toBeGreaterThan(0)
    await file.node.manager.remove(name)
    await expect(file.node.manager.logs(name, {})).rejects.toMatchObject({ kind: 'not_found' })
  }, 30_000)

  test('followLogs delivers each new line as it is written (within 1 s) until its signal aborts', async () => {
    const name = serviceName('follow')
    await file.node.manager.create(httpdService(name, { labels, port_configs: [], command: ['sh', '-c', 'i=0; while :; do echo line-$i; i=$((i+1)); sleep 0.3; done'] }), null)
    const abort = new AbortController()
    const seen: { text: string; atMs: number }[] = []
    try {
      for await (const line of file.node.manager.followLogs(name, { tail: 0, signal: abort.signal })) {
        seen.push({ text: line.text, atMs: Date.now() })
        if (seen.length === 3) abort.abort()
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error
    }
    expect(seen.map((line) => line.text)).toHaveLength(3)
    expect(seen.every((line) => /^line-\d+$/.test(line.text))).toBe(true)
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.atMs - seen[i - 1]!.atMs).toBeLessThan(1_000)
    await file.node.manager.remove(name)
  }, 30_000)
})
