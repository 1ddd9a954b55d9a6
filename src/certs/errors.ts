/** @module What can go wrong with a certificate request that the caller must be told about. */
import { DomainError } from '../lib/index.ts'

/** not_found: no certificate of that name. invalid: a field of the request (named) cannot be ordered. conflict: concurrent changes kept winning. */
export class CertificateError extends DomainError {}
