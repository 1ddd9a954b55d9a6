/** WORKERS and SHUTDOWN_DRAIN (#15): their values, their refusals naming the variable, and no port 0 shared by workers. */
import { availableParallelism } from 'node:os'
import { describe, expect, test } from 'bun:test'
import { loadConfig } from '../../src/config/index.ts'
import { problemsOf } from '../support/config-problems.ts'

describe('WORKERS', () => {
  test('1 by default; a number, or auto for one per core; the flag wins over the environment', () => {
    expect(loadConfig({}).workers).toBe(1)
    expect(loadConfig({ WORKERS: '4', HTTP_PORT: '8080', HTTPS_PORT: '8443' }).workers).toBe(4)
    expect(loadConfig({ WORKERS: 'AUTO', HTTP_PORT: '8080', HTTPS_PORT: '8443' }).workers).toBe(availableParallelism())
    expect(loadConfig({ WORKERS: '4' }, { workers: '2' }).workers).toBe(2)
  })

  test('anything else is refused naming WORKERS', () => {
    for (const bad of ['0', '-1', '1.5', 'two', '257', 'auto2']) {
      expect(problemsOf({ WORKERS: bad })).toEqual([`WORKERS: expected a number of workers from 1 to 256, or auto (one per core), got ${JSON.stringify(bad)}`])
    }
  })

  test('several workers cannot share port 0 (each process would pick another): every such port is named', () => {
    expect(problemsOf({ WORKERS: '2', HTTP_PORT: '0', API_PORT: '0' })).toEqual([
      'HTTP_PORT: 0 cannot be shared by several workers (WORKERS), choose a port',
      'API_PORT: 0 cannot be shared by several workers (WORKERS), choose a port',
    ])
    expect(loadConfig({ WORKERS: '1', HTTP_PORT: '0', HTTPS_PORT: '0', API_PORT: '0' }).workers).toBe(1)
  })
})

describe('SHUTDOWN_DRAIN', () => {
  test('10 s by default; a duration, or 0 for none', () => {
    expect(loadConfig({}).shutdownDrainSec).toBe(10)
    expect(loadConfig({ SHUTDOWN_DRAIN: '30s' }).shutdownDrainSec).toBe(30)
    expect(loadConfig({ SHUTDOWN_DRAIN: '2m' }).shutdownDrainSec).toBe(120)
    expect(loadConfig({ SHUTDOWN_DRAIN: '5' }).shutdownDrainSec).toBe(5)
    expect(loadConfig({ SHUTDOWN_DRAIN: '0' }).shutdownDrainSec).toBe(0)
    expect(loadConfig({}, { 'shutdown-drain': '0s' }).shutdownDrainSec).toBe(0)
  })

  test('anything else is refused naming SHUTDOWN_DRAIN', () => {
    for (const bad of ['-1', 'soon', '1.5s', '10 minutes']) {
      expect(problemsOf({ SHUTDOWN_DRAIN: bad })).toEqual([`SHUTDOWN_DRAIN: expected a duration such as 10s, 30s or 2m, or 0 for none, got ${JSON.stringify(bad)}`])
    }
  })
})
