/** @module What can go wrong with a route that the caller must be told about. */
import { DomainError, type DomainErrorKind } from '../lib/index.ts'

export type RouteErrorKind = DomainErrorKind

/**
 * not_found: no route with that id. conflict: another route has the same path, regex flag, priority and
 * scope (or a concurrent change won). invalid: a field is wrong in a way only the stored state shows (a
 * target that names no service or proxy; a change that breaks the route as a whole); `field` names it.
 */
export class RouteError extends DomainError {}
