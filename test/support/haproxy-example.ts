/**
 * @module examples/haproxy.cfg made runnable on loopback: the text of the example with only its addresses,
 * ports and stats socket path replaced, and the balancer's own source address added, so a test that runs
 * it checks the file users copy. Every replacement must find what it replaces; an example whose shape
 * changed fails here instead of running something else.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from './serve.ts'

export const HAPROXY_EXAMPLE = join(REPO_ROOT, 'examples/haproxy.cfg')

/** The example's ports: the public listeners and the API port its health check asks. */
const EXAMPLE_HTTP_PORT = 80
const EXAMPLE_HTTPS_PORT = 443
const EXAMPLE_API_PORT = 9000

export interface ExampleNodePorts {
  readonly httpPort: number
  readonly httpsPort: number
  readonly apiPort: number
}

export interface ExampleSubstitutions {
  /** The 127.0.0.1 ports the balancer binds in place of :80 and :443. */
  readonly httpPort: number
  readonly httpsPort: number
  readonly statsSocket: string
  /**
   * The balancer's own address (`source`, added to the defaults): in a deployment it is a host of its own,
   * here a loopback address apart from the test's 127.0.0.1, so the nodes can tell the two apart.
   */
  readonly balancerAddress: string
  /** By the example's server names (node-a, node-b): where that node listens on 127.0.0.1. */
  readonly nodes: Readonly<Record<string, ExampleNodePorts>>
}

export function readHaproxyExample(): string {
  return readFileSync(HAPROXY_EXAMPLE, 'utf8')
}

export function runnableHaproxyExample(example: string, to: ExampleSubstitutions): string {
  let text = example
  const replaceOnce = (pattern: RegExp, replacement: (...groups: string[]) => string, what: string) => {
    const count = text.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))?.length ?? 0
    if (count !== 1) throw new Error(`examples/haproxy.cfg: expected one ${what}, found ${count}`)
    text = text.replace(pattern, (_match, ...groups: string[]) => replacement(...groups))
  }
  replaceOnce(new RegExp(`^(\\s*)bind :${EXAMPLE_HTTP_PORT}$`, 'm'), (indent) => `${indent}bind 127.0.0.1:${to.httpPort}`, `"bind :${EXAMPLE_HTTP_PORT}"`)
  replaceOnce(new RegExp(`^(\\s*)bind :${EXAMPLE_HTTPS_PORT}$`, 'm'), (indent) => `${indent}bind 127.0.0.1:${to.httpsPort}`, `"bind :${EXAMPLE_HTTPS_PORT}"`)
  replaceOnce(/^(\s*stats socket )\S+/m, (head) => `${head}${to.statsSocket}`, 'stats socket')
  replaceOnce(/^defaults\n/m, () => `defaults\n  source ${to.balancerAddress}\n`, 'defaults section')

  const serverLine = /^(\s*server (\S+) )[^\s:]+:(\d+)(.*)$/gm
  const seen = new Set<string>()
  text = text.replace(serverLine, (_line, head: string, name: string, port: string, rest: string) => {
    const node = to.nodes[name]
    if (!node) throw new Error(`examples/haproxy.cfg: server ${name} is not one of ${Object.keys(to.nodes).join(', ')}`)
    const publicPort = Number(port) === EXAMPLE_HTTP_PORT ? node.httpPort : Number(port) === EXAMPLE_HTTPS_PORT ? node.httpsPort : null
    if (publicPort === null) throw new Error(`examples/haproxy.cfg: server ${name} on port ${port}, neither ${EXAMPLE_HTTP_PORT} nor ${EXAMPLE_HTTPS_PORT}`)
    seen.add(`${name}:${port}`)
    return `${head}127.0.0.1:${publicPort}${rest.replace(` port ${EXAMPLE_API_PORT}`, ` port ${node.apiPort}`)}`
  })
  for (const name of Object.keys(to.nodes)) {
    for (const port of [EXAMPLE_HTTP_PORT, EXAMPLE_HTTPS_PORT]) {
      if (!seen.has(`${name}:${port}`)) throw new Error(`examples/haproxy.cfg: no server ${name} on port ${port}`)
    }
  }
  const settings = text.split('\n').filter((line) => !line.trimStart().startsWith('#'))
  const leftOver = settings.find((line) => new RegExp(`\\b${EXAMPLE_API_PORT}\\b|\\b10\\.0\\.0\\.`).test(line))
  if (leftOver) throw new Error(`examples/haproxy.cfg: an address or the API port was left unreplaced in "${leftOver.trim()}"`)
  return text
}
