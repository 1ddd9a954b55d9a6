/** @module The one shape of an error a domain module tells its caller about; the API turns each kind into one status. */

/**
 * not_found: no such thing. conflict: it exists already, or a concurrent change won. invalid: a field is
 * wrong in a way only the stored state shows. unavailable: something this depends on (GitHub) did not
 * answer; the same request may succeed later.
 */
export type DomainErrorKind = 'not_found' | 'conflict' | 'invalid' | 'unavailable'

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** The input field at fault, for 'invalid'. */
    readonly field?: string,
  ) {
    super(message)
    this.name = new.target.name
  }
}
