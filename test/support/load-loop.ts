/**
 * @module A closed load loop: `concurrency` workers, each sending one request at a time and the next as
 * soon as it is answered, so at any moment at most `concurrency` requests are in flight. Every request's
 * start, end and outcome is kept, to tell afterwards which ones failed and when they had started.
 */

export interface RequestOutcome {
  readonly worker: number
  /** performance.now() values. */
  readonly startedAt: number
  readonly endedAt: number
  readonly ok: boolean
  /** What went wrong, for the failure message; '' when ok. */
  readonly problem: string
}

export interface LoadLoop {
  /** Outcomes so far (the loop keeps appending until stop). */
  readonly outcomes: readonly RequestOutcome[]
  /** Lets each worker finish its request in flight and resolves with every outcome. */
  stop(): Promise<readonly RequestOutcome[]>
}

/**
 * `request` resolves '' for a good answer and a description otherwise; a rejection or no answer within
 * `timeoutMs` counts as a failure too.
 */
export function startLoadLoop(options: { concurrency: number; timeoutMs: number; request: (worker: number) => Promise<string> }): LoadLoop {
  const outcomes: RequestOutcome[] = []
  let stopping = false
  const oneRequest = async (worker: number): Promise<string> => {
    let timer: Timer | undefined
    const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${options.timeoutMs} ms`), options.timeoutMs)))
    try {
      return await Promise.race([options.request(worker).catch((error: unknown) => String(error)), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
  const workers = Array.from({ length: options.concurrency }, async (_, worker) => {
    while (!stopping) {
      const startedAt = performance.now()
      const problem = await oneRequest(worker)
      outcomes.push({ worker, startedAt, endedAt: performance.now(), ok: problem === '', problem })
    }
  })
  return {
    outcomes,
    async stop() {
      stopping = true
      await Promise.all(workers)
      return outcomes
    },
  }
}
