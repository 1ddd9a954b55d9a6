/**
 * @module Several `serve` processes on one Redis, as the nodes of one cluster: the same store, PUBLIC_URL
 * (the tokens' issuer and audience) and instance port ranges, each its own NODE_ID and public ports; and an
 * admin token from `token issue` on the host. Processes and temp dirs are tracked by serve.ts
 * (cleanupSpawned); stop() also removes the Redis. And the public client whose tokens a test revokes.
 */
import { isolatedPortRanges } from './port-ranges.ts'
import { freePort } from './ports.ts'
import { startRedis, type TestRedis } from './redis.ts'
import { cleanupSpawned, runCli, serveEnv, startServe, type ServedProcess } from './serve.ts'

export interface ClusterNode extends ServedProcess {
  readonly nodeId: string
  readonly httpPort: number
  readonly httpsPort: number
}

export interface TestCluster {
  readonly redis: TestRedis
  readonly nodes: readonly ClusterNode[]
  /** The environment every node shares (and the CLI needs to reach the same store). */
  readonly shared: Record<string, string>
  readonly adminToken: string
  /** Starts a node again (after stop or a kill) with the same environment and ports; the new process replaces it in `nodes`. */
  restart(node: ClusterNode): Promise<ClusterNode>
  /** The management API of `node`, as admin. */
  api(node: ClusterNode, method: string, path: string, body?: unknown): Promise<Response>
  /** Kills every node and removes the Redis. */
  stop(): Promise<void>
}

export async function startCluster(options: { nodeIds: readonly string[]; env?: Record<string, string> }): Promise<TestCluster> {
  const redis = await startRedis()
  const shared = { REDIS_URL: redis.url, PUBLIC_URL: 'https://edge.test', LISTEN_ADDRESS: '127.0.0.1', LOG_LEVEL: 'warn', ...isolatedPortRanges(), ...options.env }
  const nodes: ClusterNode[] = []
  const envOf = new Map<string, Record<string, string>>()
  const start = async (nodeId: string, env: Record<string, string>): Promise<ClusterNode> => {
    envOf.set(nodeId, env)
    const served = await startServe({ env })
    return Object.assign(served, { nodeId, httpPort: Number(env.HTTP_PORT), httpsPort: Number(env.HTTPS_PORT) })
  }
  try {
    for (const nodeId of options.nodeIds) {
      nodes.push(await start(nodeId, await serveEnv({ ...shared, NODE_ID: nodeId, HTTP_PORT: String(await freePort()), HTTPS_PORT: String(await freePort()) })))
    }
    const issued = await runCli(['token', 'issue', '--user', 'alice', '--scope', 'admin'], { env: await serveEnv(shared) })
    if (issued.code !== 0) throw new Error(`token issue exited ${issued.code}: ${issued.stderr}`)
    const adminToken = issued.stdout.trim()
    return {
      redis,
      nodes,
      shared,
      adminToken,
      async restart(node) {
        const restarted = await start(node.nodeId, envOf.get(node.nodeId)!)
        nodes[nodes.indexOf(node)] = restarted
        return restarted
      },
      api: (node, method, path, body) =>
        fetch(`${node.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      async stop() {
        await cleanupSpawned()
        await redis.dispose()
      },
    }
  } catch (error) {
    await cleanupSpawned()
    await redis.dispose()
    throw error
  }
}

/**
 * A public client (RFC 7591, token_endpoint_auth_method none) registered through `apiUrl`: the client tokens
 * are minted for, so that it may revoke them itself (RFC 7009 §2.1) at any node.
 */
export async function registerPublicClient(apiUrl: string, clientName: string): Promise<string> {
  const registered = await fetch(`${apiUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none', client_name: clientName }),
  })
  if (registered.status !== 201) throw new Error(`registering ${clientName} answered ${registered.status}: ${await registered.text()}`)
  return ((await registered.json()) as { client_id: string }).client_id
}
