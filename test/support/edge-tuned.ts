/** @module startTestEdge with data-plane timings that have no setting, e.g. a short slowloris deadline. */
import type { ServerOptions } from '../../src/server.ts'
import { startTestEdge, type TestEdge } from './edge.ts'

export function startTunedTestEdge(edge: NonNullable<ServerOptions['edge']>, env: Record<string, string> = {}): Promise<TestEdge> {
  return startTestEdge(env, edge)
}
