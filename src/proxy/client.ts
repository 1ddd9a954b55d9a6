/** @module Who is on the other end of a request, as the edge learned it (socket, or a trusted PROXY header). */

export interface ClientInfo {
  readonly address: string
  readonly port: number
  /** The client spoke TLS to our public listener. */
  readonly isTls: boolean
  /** The address came from a PROXY header of a trusted load balancer, whose forwarding headers are kept. */
  readonly isViaTrustedProxy: boolean
}
