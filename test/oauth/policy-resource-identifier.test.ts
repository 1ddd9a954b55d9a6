/**
 * RFC 8707 §2 with RFC 9728 §2: a proxy's resource identifier may carry a path (resource_endpoint /mcp);
 * whatever URI on its origin a client sends, the token's aud is that identifier alone (AS-04).
 */
import { describe, expect, test } from 'bun:test'
import { resolveResource } from '../../src/oauth/index.ts'

const known = {
  apiResource: 'https://api.example.com',
  proxyResources: (origin: string) => origin === 'https://mcp.example.com' || origin === 'http://app.localhost:8080',
  proxyResourceOf: (origin: string) => (origin === 'https://mcp.example.com' ? 'https://mcp.example.com/mcp' : origin),
}

describe('resolveResource with a proxy resource path', () => {
  test('the advertised identifier, a path below it, and the bare origin all resolve to the identifier', () => {
    for (const requested of ['https://mcp.example.com/mcp', 'https://MCP.example.com/mcp/', 'https://mcp.example.com', 'https://mcp.example.com:443/mcp/x']) {
      expect(resolveResource(requested, known)).toBe('https://mcp.example.com/mcp')
    }
  })

  test('a proxy without a path keeps its origin, port included', () => {
    expect(resolveResource('http://app.localhost:8080/mcp', known)).toBe('http://app.localhost:8080')
  })

  test('RFC 8707 §2: an unknown origin or a fragment is still invalid_target', () => {
    expect(resolveResource('https://other.example.com/mcp', known)).toBeNull()
    expect(resolveResource('https://mcp.example.com/mcp#x', known)).toBeNull()
  })
})
