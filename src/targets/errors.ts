/** @module What can go wrong with a proxy target that the caller must be told about. */
import { DomainError } from '../lib/index.ts'

export class TargetError extends DomainError {}
