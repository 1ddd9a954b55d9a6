/**
 * @module Stands in for the data plane's HTTP-01 answer in certificate tests: a Bun.serve on 127.0.0.1
 * that answers `/.well-known/acme-challenge/<token>` from the ChallengeStore (RFC 8555 §8.3), on the
 * challenge's own domain only. It can be told to answer 404 instead, and records what the CA asked.
 */
import type { ChallengeStore } from '../../src/certs/index.ts'

export interface ChallengeResponder {
  readonly port: number
  /** 'answer' (default) serves stored challenges; '404' answers every request with 404. */
  setMode(mode: 'answer' | '404'): void
  /** Each validation request: the Host it named, the token, and the status answered. */
  readonly requests: { host: string; token: string; status: number }[]
  /** Answers from this store too (a second node on its own store). */
  addStore(challenges: ChallengeStore): void
  /** Called for every request before answering (e.g. to look at the order's status mid-validation). */
  onRequest(hook: ((host: string) => Promise<void>) | null): void
  stop(): void
}

const PREFIX = '/.well-known/acme-challenge/'

export function startChallengeResponder(first: ChallengeStore): ChallengeResponder {
  const stores = [first]
  let mode: 'answer' | '404' = 'answer'
  let hook: ((host: string) => Promise<void>) | null = null
  const requests: ChallengeResponder['requests'] = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const url = new URL(request.url)
      const host = (request.headers.get('host') ?? '').replace(/:\d+$/, '').toLowerCase()
      const token = url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length) : ''
      await hook?.(host)
      const challenge = mode === 'answer' && token ? await findChallenge(stores, token) : null
      const status = challenge && challenge.domain === host ? 200 : 404
      requests.push({ host, token, status })
      return status === 200 ? new Response(challenge!.key_authorization, { headers: { 'content-type': 'application/octet-stream' } }) : new Response('not found', { status })
    },
  })
  return {
    port: server.port!,
    setMode: (next) => void (mode = next),
    requests,
    addStore: (challenges) => void stores.push(challenges),
    onRequest: (next) => void (hook = next),
    stop: () => void server.stop(true),
  }
}

async function findChallenge(stores: readonly ChallengeStore[], token: string) {
  for (const challenges of stores) {
    const found = await challenges.get(token)
    if (found) return found
  }
  return null
}
