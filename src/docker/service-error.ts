/** @module What can go wrong with a Docker service that its caller must be told about (one status per kind, api/errors.ts). */
import { DomainError } from '../lib/index.ts'

export class DockerServiceError extends DomainError {}
