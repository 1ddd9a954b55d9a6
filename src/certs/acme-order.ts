/**
 * @module One ACME order, start to finish (RFC 8555 §7.4): new order, an HTTP-01 challenge per pending
 * authorization published through the ChallengeStore (so every node answers it), validation, then
 * finalization with a fresh key and CSR. The caller holds the per-name lock and records the outcome.
 */
import type { Authorization, Client } from 'acme-client'

type HttpChallenge = Extract<Authorization['challenges'][number], { type: 'http-01' }>
import type { ChallengeStore } from './challenges.ts'
import { createKeyAndCsr } from './csr.ts'

/** Challenges outlive any order: an order that hangs cannot leave a token answered for long. */
export const CHALLENGE_TTL_SEC = 600

export interface AcmeOrderInput {
  readonly client: Client
  readonly domains: readonly string[]
  readonly challenges: ChallengeStore
  /** Time for the `acme_challenge` event to reach every node before the CA is told to look. */
  readonly propagationDelayMs: number
  /** Called once the challenges are published and the CA is about to validate them. */
  onValidating(): Promise<void>
}

export interface IssuedPems {
  /** Leaf first, then the CA's chain. */
  readonly chainPem: string
  /** Secret: PKCS #8 PEM of the certificate key. */
  readonly keyPem: string
}

/** Rejects with the CA's own words (its problem detail, RFC 8555 §6.7) where it gave any. */
export async function runAcmeOrder(input: AcmeOrderInput): Promise<IssuedPems> {
  const { client, challenges } = input
  const order = await client.createOrder({ identifiers: input.domains.map((value) => ({ type: 'dns', value })) })
  const authorizations = await client.getAuthorizations(order)
  const published: string[] = []
  try {
    const pending: { domain: string; challenge: HttpChallenge }[] = []
    for (const authorization of authorizations) {
      // A CA may reuse a recent valid authorization (RFC 8555 §7.1.4); nothing to prove then.
      if (authorization.status === 'valid') continue
      const challenge = httpChallengeOf(authorization)
      const domain = authorization.identifier.value
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge)
      await challenges.set({ token: challenge.token, key_authorization: keyAuthorization, domain }, CHALLENGE_TTL_SEC)
      published.push(challenge.token)
      pending.push({ domain, challenge })
    }
    await input.onValidating()
    if (pending.length > 0) await Bun.sleep(input.propagationDelayMs)
    await Promise.all(
      pending.map(async ({ domain, challenge }) => {
        try {
          // RFC 8555 §7.5.1: an empty JSON object tells the CA the response is in place.
          await client.completeChallenge(challenge)
          await client.waitForValidStatus(challenge)
        } catch (error) {
          throw new Error(`${domain}: ${messageOf(error)}`)
        }
      }),
    )
  } finally {
    await Promise.allSettled(published.map((token) => challenges.clear(token)))
  }
  const { keyPem, csrPem } = await createKeyAndCsr(input.domains)
  const finalized = await client.finalizeOrder(order, csrPem)
  // getCertificate polls the order until it is valid (RFC 8555 §7.4: "processing" → "valid").
  const chainPem = await client.getCertificate(finalized)
  return { chainPem, keyPem }
}

function httpChallengeOf(authorization: Authorization): HttpChallenge {
  const challenge = authorization.challenges.find((candidate): candidate is HttpChallenge => candidate.type === 'http-01')
  if (!challenge) {
    throw new Error(`${authorization.identifier.value}: the CA offers no HTTP-01 challenge (offered: ${authorization.challenges.map((c) => c.type).join(', ') || 'none'})`)
  }
  return challenge
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
