/** @module The request log: records from the data plane, kept off its fast path, stored, queried and counted. */
export { maskTarget, type BackendErrorKind, type RequestOutcome, type RequestRecord, type RequestSink } from './record.ts'
