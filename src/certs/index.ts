/** @module Certificates: what HTTPS instances serve (self-signed until ACME issuance lands). */
export { createCertificateSource, type ServedCertificate } from './certificate-source.ts'
export { createSelfSignedCertificate, type PemPair } from './self-signed.ts'
export { createChallengeStore, isChallengeToken, type Challenge, type ChallengeStore } from './challenges.ts'
