/**
 * @module The steps a multi-step change has taken, undone in reverse when a later step fails, so a failed
 * creation leaves nothing behind: no container, no port claim, no name (Caddy's run() rollback, per call).
 */
import type { Logger } from '../lib/index.ts'

export interface Undo {
  /** Records how to undo a step just taken. */
  push(what: string, undo: () => Promise<unknown>): void
  /** Undoes every recorded step, newest first; a step that cannot be undone is logged and the rest still run. */
  run(): Promise<void>
}

export function createUndo(logger: Logger): Undo {
  const steps: { what: string; undo: () => Promise<unknown> }[] = []
  return {
    push(what, undo) {
      steps.push({ what, undo })
    },
    async run() {
      for (const step of steps.splice(0).reverse()) {
        try {
          await step.undo()
        } catch (error) {
          logger.warn('could not undo a step of a failed change', { step: step.what, error: String(error) })
        }
      }
    },
  }
}
