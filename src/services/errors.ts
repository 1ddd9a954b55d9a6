/** @module What can go wrong with an external service that the caller must be told about. */

export class ServiceError extends Error {
  constructor(
    readonly kind: 'not_found' | 'conflict' | 'invalid',
    message: string,
    /** The input field at fault, for 'invalid'. */
    readonly field?: string,
  ) {
    super(message)
    this.name = 'ServiceError'
  }
}
