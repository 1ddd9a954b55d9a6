/** @module A DockerService as the manager would store it, built from a create body through the real schema. */
import { afterAll, beforeAll } from 'bun:test'
import * as v from 'valibot'
import { createEngine, CreateDockerServiceSchema, type AllocatedPort, type CreateDockerService, type DockerService, type Engine } from '../../src/docker/index.ts'
import { BUSYBOX_IMAGE, ensureBusyboxImage, removeTestContainers, requireDocker, TEST_LABELS } from '../support/docker.ts'

export interface EngineTestFile {
  readonly engine: Engine
  /** "ohp-test.file=<file>", for --label and --filter label=. */
  readonly fileLabel: string
  /** TEST_LABELS plus this file's own label, for Labels of what the file creates. */
  readonly labels: Readonly<Record<string, string>>
}

/**
 * For a test file against the real engine: fails (never skips) without one, makes the busybox image, and
 * afterwards removes what carries this file's label (never another file's containers).
 */
export function engineTestFile(file: string): EngineTestFile {
  const fileLabel = `ohp-test.file=${file}`
  beforeAll(async () => {
    await requireDocker()
    await ensureBusyboxImage()
  }, 120_000)
  afterAll(() => removeTestContainers(fileLabel))
  return { engine: createEngine(process.env.DOCKER_HOST), fileLabel, labels: { ...TEST_LABELS, 'ohp-test.file': file } }
}

/** A create body through the schema, defaults filled in (image: the offline busybox). */
export function serviceSettings(body: Record<string, unknown> = {}): CreateDockerService {
  return v.parse(CreateDockerServiceSchema, { service_name: 'web', image: BUSYBOX_IMAGE, ...body })
}

/** The stored form of a create body, with its ports allocated. */
export function storedService(body: Record<string, unknown> = {}, ports: AllocatedPort[] = []): DockerService {
  const { port_configs: _asked, internal_port: _shorthand, ...rest } = serviceSettings(body)
  return {
    ...rest,
    kind: 'docker',
    ports,
    status: 'creating',
    exit_code: null,
    status_detail: null,
    health_status: null,
    container_id: null,
    image_id: null,
    created_by: null,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  }
}

export function allocatedPort(fields: Partial<AllocatedPort> & Pick<AllocatedPort, 'host_port'>): AllocatedPort {
  return { name: 'http', container_port: 8080, bind_address: '127.0.0.1', protocol: 'tcp', description: '', auto: true, ...fields }
}

/** A name no other test run uses at the same time. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
}
