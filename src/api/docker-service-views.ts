/**
 * @module What /services answers, as schemas for the OpenAPI document (/docs): the service is the
 * stored document (docker/model.ts), the same one every store read is checked against, so the
 * document cannot drift from what is returned.
 */
import * as v from 'valibot'
import { DockerServiceSchema } from '../docker/index.ts'
import { ProxyTargetSchema } from '../targets/index.ts'

const Warnings = v.array(v.string())

/** Another container of the engine: listed, never touched. */
const ForeignContainerSchema = v.object({ container_id: v.string(), name: v.string(), image: v.string(), state: v.string() })

export const DockerServiceListSchema = v.object({
  services: v.array(DockerServiceSchema),
  foreign: v.array(ForeignContainerSchema),
  total: v.number(),
  warnings: Warnings,
})

export const CreatedDockerServiceSchema = v.object({ service: DockerServiceSchema, proxy: v.nullable(ProxyTargetSchema), warnings: Warnings })

export const CleanupReportSchema = v.object({
  containers_removed: v.array(v.string()),
  services_missing: v.array(v.string()),
  ports_released: v.array(v.number()),
  volumes_unused: v.array(v.string()),
})
