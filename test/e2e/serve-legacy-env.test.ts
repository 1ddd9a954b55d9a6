/** `serve` started with a .env written for the original: it runs, and says once per variable what no longer applies. */
import { afterEach, expect, test } from 'bun:test'
import { waitFor } from '../support/ports.ts'
import { cleanupSpawned, lines, serveEnv, startServe } from '../support/serve.ts'

afterEach(cleanupSpawned)

test("serve logs one warning per unread variable of the original, naming its replacement and never its value", async () => {
  const secrets = { REDIS_PASSWORD: 'hunter2-redis-secret', OAUTH_JWT_PRIVATE_KEY_B64: 'c2VjcmV0LWtleS1tYXRlcmlhbA==' }
  const server = await startServe({ env: await serveEnv({ ...secrets, SERVER_HOST: '0.0.0.0', LOG_LEVEL: 'INFO' }) })
  const warnings = () =>
    lines(server.stderrText())
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .filter((entry) => entry.level === 'warn')
  await waitFor(async () => warnings().length >= 3, { timeoutMs: 5_000, what: 'three start-up warnings' })

  const about = (name: string) => warnings().filter((entry) => entry.msg.startsWith(`${name} `))
  expect(about('REDIS_PASSWORD')).toHaveLength(1)
  expect(about('REDIS_PASSWORD')[0]!.msg).toContain('REDIS_URL')
  expect(about('OAUTH_JWT_PRIVATE_KEY_B64')).toHaveLength(1)
  expect(about('OAUTH_JWT_PRIVATE_KEY_B64')[0]!.msg).toContain('keys rotate')
  expect(about('SERVER_HOST')).toHaveLength(1)
  expect(about('SERVER_HOST')[0]!.msg).toContain('LISTEN_ADDRESS')
  for (const secret of Object.values(secrets)) expect(server.stderrText()).not.toContain(secret)

  expect(await server.stop()).toBe(0)
})
