/**
 * @module The pending ACME HTTP-01 challenges the decision answers (RFC 8555 §8.3), held in memory so
 * the answer needs no store read: loaded at start-up and by the reconcile, kept current by
 * `acme_challenge` events from whichever node runs the order.
 */
export interface PendingChallenge {
  readonly token: string
  readonly key_authorization: string
  readonly domain: string
}

export interface ChallengeSource {
  get(token: string): Promise<PendingChallenge | null>
  list(): Promise<readonly PendingChallenge[]>
}

export interface ChallengeTable {
  lookup(token: string): PendingChallenge | undefined
  refresh(token: string): Promise<void>
  reload(): Promise<void>
}

export function createChallengeTable(source: ChallengeSource): ChallengeTable {
  const challenges = new Map<string, PendingChallenge>()
  return {
    lookup: (token) => challenges.get(token),
    async refresh(token) {
      const challenge = await source.get(token)
      if (challenge) challenges.set(token, challenge)
      else challenges.delete(token)
    },
    async reload() {
      const all = await source.list()
      challenges.clear()
      for (const challenge of all) challenges.set(challenge.token, challenge)
    },
  }
}
