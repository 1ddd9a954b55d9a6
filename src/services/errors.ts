/** @module What can go wrong with an external service that the caller must be told about. */
import { DomainError } from '../lib/index.ts'

export class ServiceError extends DomainError {}
