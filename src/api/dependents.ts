/**
 * @module Deleting something others point at: refused with 409 naming the dependents, unless the
 * caller says `?force=true`; then the dependents are kept and answer 502 until they are changed.
 */
import * as v from 'valibot'
import { ApiError } from './errors.ts'
import { queryFlag } from './query-flag.ts'

export const ForceQuerySchema = v.object({
  force: queryFlag(false),
})

export interface Dependents {
  readonly proxies?: readonly string[]
  readonly routes?: readonly string[]
}

/** Throws a 409 naming every dependent of `subject` ("service billing"), if it has any. */
export function refuseIfDependents(subject: string, dependents: Dependents): void {
  const parts = [
    dependents.proxies?.length ? `proxies ${dependents.proxies.join(', ')}` : '',
    dependents.routes?.length ? `routes ${dependents.routes.join(', ')}` : '',
  ].filter(Boolean)
  if (parts.length === 0) return
  throw new ApiError(409, 'conflict', `${subject} is used by ${parts.join(' and ')}; change them first, or delete with ?force=true (they then answer 502 until changed)`)
}
