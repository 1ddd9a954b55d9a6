/**
 * SERVICE_NETWORK (#14): a server that runs in a container (compose) dials service://name on the network
 * it shares with its services, since 127.0.0.1 there is its own loopback. Every service joins that
 * network with its name as alias, and urlOf answers http://<name>:<container port>, which a container on
 * the network reaches (here a plain `docker run` on it, standing where the server's container stands).
 */
import { expect, setDefaultTimeout, test } from 'bun:test'
import { BUSYBOX_IMAGE, docker, INDEX_HTML, inspect, TEST_LABEL } from '../support/docker.ts'
import { httpdService, managerForFile, serviceName } from './manager-fixture.ts'

setDefaultTimeout(30_000)

const network = serviceName('ohp-t-shared')
const file = managerForFile('service-network', {
  settings: { network },
  prepare: (fileLabel) => docker('network', 'create', '--label', TEST_LABEL, '--label', fileLabel, network),
})
const { labels, fileLabel: FILE_LABEL } = file

test('a service joins the shared network under its name; service:// is http://<name>:<container port>, served to a container on that network', async () => {
  const name = serviceName('net-web')
  const service = await file.node.manager.create(httpdService(name, { labels }), null)
  expect(service.networks).toEqual([]) // the setting's network is not written into the service
  const info = await inspect(service.container_id!)
  expect(info.NetworkSettings.Networks[network]?.Aliases).toContain(name)
  const url = file.node.manager.urlOf(name)!
  expect(url).toBe(`http://${name}:8080`)
  // The static busybox's wget crashes here (exit 139), so the name is looked up with nslookup against the
  // network's DNS (127.0.0.11), as the server's resolver would, and the page fetched with nc.
  const { hostname, port } = new URL(url)
  const script = `ip=$(nslookup ${hostname} 127.0.0.11 | awk '/^Address: /{print $2; exit}') && printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc "$ip" ${port}`
  const response = await docker('run', '--rm', '--label', TEST_LABEL, '--label', FILE_LABEL, '--network', network, BUSYBOX_IMAGE, 'sh', '-c', script)
  expect(response).toStartWith('HTTP/1.1 200 OK')
  expect(response).toEndWith(INDEX_HTML.trim())
  await file.node.manager.remove(name)
})
