/** @module The data plane: public dispatchers, per-hostname instances, PROXY protocol codec. */
export { startEdge, type Edge, type EdgeDeps, type EdgeOptions } from './edge.ts'
export type { ForwardAuth, ForwardAuthRequest } from './forward-auth.ts'
export type { CertificatePem, CertificateSource } from './instances.ts'
export { resolveListenAddress } from './listen-address.ts'
