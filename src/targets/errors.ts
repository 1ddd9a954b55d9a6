/** @module What can go wrong with a proxy target that the caller must be told about. */

export class TargetError extends Error {
  constructor(
    readonly kind: 'not_found' | 'conflict' | 'invalid',
    message: string,
    /** The setting at fault, for 'invalid'. */
    readonly field?: string,
  ) {
    super(message)
    this.name = 'TargetError'
  }
}
