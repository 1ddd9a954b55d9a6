/**
 * Named volumes belong to this deployment (#14): the manager creates a service's volumes itself, labelled
 * as ours; a volume that exists without our deployment's label (another application's data, another
 * server's) is refused with a 400 naming volumes[i].source before anything is made. Volumes outlive
 * update and delete; cleanup lists ours that no service mounts and removes none.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { keys } from '../../src/store/index.ts'
import { docker, TEST_LABEL } from '../support/docker.ts'
import { httpdService, managerForFile, serviceName } from './manager-fixture.ts'

setDefaultTimeout(30_000)

const file = managerForFile('manager-volumes')
const { labels, fileLabel: FILE_LABEL } = file

const volumeLabels = async (name: string) => JSON.parse(await docker('volume', 'inspect', '--format', '{{json .Labels}}', name)) as Record<string, string>
const volumeExists = async (name: string) => (await docker('volume', 'ls', '-q', '--filter', `name=^${name}$`)) === name
const containersOf = async (name: string) => (await docker('ps', '-aq', '--filter', `label=io.oauth-https-proxy.service=${name}`)).split('\n').filter(Boolean)

describe('named volumes', () => {
  test('a new volume is created by us with our labels (deployment, service) and the service’s; it outlives update and delete, another service of ours may mount it; cleanup lists it unused, never removes it', async () => {
    const volume = serviceName('ohp-t-vol')
    const first = serviceName('vol-a')
    const created = await file.node.manager.create(httpdService(first, { labels, volumes: [{ source: volume, target: '/data' }] }), null)
    expect(created.status).toBe('running')
    const deployment = (await file.store.get(keys.dockerDeployment()))!.value
    expect(await volumeLabels(volume)).toEqual({ ...labels, 'io.oauth-https-proxy.managed': 'true', 'io.oauth-https-proxy.service': first, 'io.oauth-https-proxy.deployment': deployment })

    const second = serviceName('vol-b')
    await file.node.manager.create(httpdService(second, { labels, volumes: [{ source: volume, target: '/shared', read_only: true }] }), null)
    await file.node.manager.remove(first)
    await file.node.manager.remove(second)
    expect(await volumeExists(volume)).toBe(true)
    const report = await file.node.manager.cleanup()
    expect(report.volumes_unused).toContain(volume)
    expect(await volumeExists(volume)).toBe(true)
  })

  test("an existing volume that is not ours (no label, or another deployment's) is refused naming volumes[i].source; nothing is left", async () => {
    const plain = serviceName('ohp-t-foreign')
    const elsewhere = serviceName('ohp-t-other')
    await docker('volume', 'create', '--label', TEST_LABEL, '--label', FILE_LABEL, plain)
    await docker('volume', 'create', '--label', TEST_LABEL, '--label', FILE_LABEL, '--label', 'io.oauth-https-proxy.managed=true', '--label', 'io.oauth-https-proxy.deployment=another', elsewhere)
    const name = serviceName('vol-x')
    await expect(file.node.manager.create(httpdService(name, { labels, volumes: [{ source: plain, target: '/data' }] }), null)).rejects.toMatchObject({ kind: 'invalid', field: 'volumes[0].source' })
    const fresh = serviceName('ohp-t-fresh')
    await expect(file.node.manager.create(httpdService(name, { labels, volumes: [{ source: fresh, target: '/a' }, { source: elsewhere, target: '/b' }] }), null)).rejects.toMatchObject({ kind: 'invalid', field: 'volumes[1].source' })
    expect(await containersOf(name)).toEqual([])
    expect(await file.node.manager.get(name)).toBeNull()
    expect(await volumeExists(fresh)).toBe(false) // made by the failed creation, removed again
    expect(await volumeLabels(plain)).toEqual({ 'ohp-test': 'true', 'ohp-test.file': 'manager-volumes' }) // untouched

    // An update may not take one either; the service keeps running as it was.
    const kept = await file.node.manager.create(httpdService(name, { labels }), null)
    await expect(file.node.manager.update(name, httpdService(name, { labels, volumes: [{ source: plain, target: '/data' }] }))).rejects.toMatchObject({ kind: 'invalid', field: 'volumes[0].source' })
    expect(await file.node.manager.get(name)).toMatchObject({ status: 'running', container_id: kept.container_id })
    await file.node.manager.remove(name)
  })
})
