/**
 * The original's `DELETE /proxy/targets/{h}?delete_certificate=true`: the proxy's certificate (its
 * cert_name, or its hostname) goes with it; without the flag the certificate stays. Against a server
 * process whose production CA is Pebble.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startCertificateServer, type CertificateServer } from '../support/certificate-server.ts'

let certs: CertificateServer
beforeAll(async () => {
  certs = await startCertificateServer()
}, 30_000)
afterAll(() => certs?.stop())

const createProxy = async (hostname: string, extra: Record<string, unknown> = {}) => {
  const response = await certs.api('POST', '/proxy/targets', { body: { proxy_hostname: hostname, target_url: 'http://127.0.0.1:9', enable_https: false, ...extra } })
  expect(response.status).toBe(201)
}
const order = async (name: string) => {
  const response = await certs.api('POST', '/certificates', { body: { cert_name: name, domains: [`${name}`] } })
  expect([201, 202]).toContain(response.status)
}
const certificateStatus = async (name: string) => (await certs.api('GET', `/certificates/${name}`)).status

describe('DELETE /proxy/targets/{h}?delete_certificate=true', () => {
  test('deletes the certificate named after the proxy; without the flag it stays', async () => {
    await order('keep.test')
    await createProxy('keep.test')
    expect((await certs.api('DELETE', '/proxy/targets/keep.test')).status).toBe(204)
    expect(await certificateStatus('keep.test')).toBe(200)

    await order('drop.test')
    await createProxy('drop.test')
    expect((await certs.api('DELETE', '/proxy/targets/drop.test?delete_certificate=true')).status).toBe(204)
    expect(await certificateStatus('drop.test')).toBe(404)
  })

  test('the certificate it names by cert_name goes; a proxy without one is deleted all the same', async () => {
    await order('shared-name.test')
    await createProxy('named.test', { cert_name: 'shared-name.test' })
    expect((await certs.api('DELETE', '/proxy/targets/named.test?delete_certificate=true')).status).toBe(204)
    expect(await certificateStatus('shared-name.test')).toBe(404)
    await createProxy('bare.test')
    expect((await certs.api('DELETE', '/proxy/targets/bare.test?delete_certificate=true')).status).toBe(204)
    expect((await certs.api('GET', '/proxy/targets/bare.test')).status).toBe(404)
  })

  test('a bad flag is a 400 naming it, and nothing is deleted', async () => {
    await createProxy('flag.test')
    const response = await certs.api('DELETE', '/proxy/targets/flag.test?delete_certificate=yes')
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error_description: string }).error_description).toContain('delete_certificate')
    expect((await certs.api('GET', '/proxy/targets/flag.test')).status).toBe(200)
  })
})
