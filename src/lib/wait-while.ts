/** @module Waiting for work under way to end, with a deadline: what a shutdown's drain does. */

/** How often the condition is asked. */
const POLL_MS = 20

/** Resolves once isUnderWay() is false or performance.now() reaches untilMs, whichever comes first. */
export async function waitWhile(isUnderWay: () => boolean, untilMs: number): Promise<void> {
  while (isUnderWay() && performance.now() < untilMs) await Bun.sleep(Math.max(1, Math.min(POLL_MS, untilMs - performance.now())))
}
