/** The Docker services settings (#14): defaults, parsing, and a bad value named with what it expected. */
import { describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '../../src/config/index.ts'

function problemOf(env: Record<string, string>): string {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n')
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('Docker services settings', () => {
  test('defaults: on, the local socket, ports 20000-29999, nothing restricted, bind mounts refused, no registry, no BASE_DOMAIN', () => {
    expect(loadConfig({}).docker).toEqual({ enabled: true, host: undefined, ports: { first: 20_000, last: 29_999 }, restrictedPorts: [], bindRoot: null, registry: null, network: null })
    expect(loadConfig({}).baseDomain).toBeUndefined()
  })

  test('every setting parsed', () => {
    const config = loadConfig({
      DOCKER_HOST: 'unix:///run/docker.sock',
      DOCKER_SERVICES: 'false',
      SERVICE_PORTS: '21000-21999',
      SERVICE_PORTS_RESTRICTED: '22, 21005-21007,80',
      SERVICE_BIND_ROOT: '/srv/services/',
      SERVICE_REGISTRY: 'registry.local:5000',
      SERVICE_NETWORK: 'oauth-https-proxy',
      BASE_DOMAIN: 'Apps.Example.COM.',
    })
    expect(config.docker).toEqual({
      enabled: false,
      host: 'unix:///run/docker.sock',
      ports: { first: 21_000, last: 21_999 },
      restrictedPorts: [22, 21_005, 21_006, 21_007, 80],
      bindRoot: '/srv/services',
      registry: 'registry.local:5000',
      network: 'oauth-https-proxy',
    })
    expect(config.baseDomain).toBe('apps.example.com')
    expect(loadConfig({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }).docker.host).toBe('tcp://127.0.0.1:2375')
    expect(loadConfig({ DOCKER_HOST: '/var/run/docker.sock' }).docker.host).toBe('/var/run/docker.sock')
  })

  test('bad values name the variable and what it expected', () => {
    expect(problemOf({ SERVICE_PORTS: '30000-20000' })).toStartWith('SERVICE_PORTS: expected a port range')
    expect(problemOf({ SERVICE_PORTS_RESTRICTED: '22,abc' })).toStartWith('SERVICE_PORTS_RESTRICTED: expected ports or FIRST-LAST ranges')
    expect(problemOf({ SERVICE_PORTS_RESTRICTED: '90-80' })).toStartWith('SERVICE_PORTS_RESTRICTED: expected ports 1-65535')
    expect(problemOf({ SERVICE_PORTS_RESTRICTED: '70000' })).toStartWith('SERVICE_PORTS_RESTRICTED: expected ports 1-65535')
    expect(problemOf({ SERVICE_BIND_ROOT: 'relative/dir' })).toStartWith('SERVICE_BIND_ROOT: expected an absolute directory path')
    expect(problemOf({ SERVICE_BIND_ROOT: '/' })).toStartWith('SERVICE_BIND_ROOT: expected an absolute directory path other than /')
    expect(problemOf({ SERVICE_BIND_ROOT: '/srv/../etc' })).toStartWith('SERVICE_BIND_ROOT: expected an absolute directory path other than /')
    expect(problemOf({ SERVICE_REGISTRY: 'http://registry:5000' })).toStartWith('SERVICE_REGISTRY: expected a registry host[:port]')
    expect(problemOf({ BASE_DOMAIN: 'not a domain' })).toStartWith('BASE_DOMAIN: expected a domain name')
    expect(problemOf({ DOCKER_HOST: 'docker.example:2375' })).toStartWith('DOCKER_HOST: expected unix:///path/to/docker.sock')
    expect(problemOf({ DOCKER_SERVICES: 'maybe' })).toStartWith('DOCKER_SERVICES: expected true or false')
  })
})
