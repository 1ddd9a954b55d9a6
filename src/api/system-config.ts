/**
 * @module GET /system/config exports the whole configuration as one document (JSON or YAML), and
 * POST /system/config imports one: checked completely (every entry with its API's schema, every
 * reference) before anything is written, then applied through the domain services. `dry_run` answers
 * the plan alone; only `prune` deletes what the document does not have. Admin only: with
 * include_secrets the document carries the GitHub client secrets and the OAuth clients' hashes;
 * certificates are definitions, never keys or chains, with or without it.
 */
import type { Context } from 'hono'
import * as v from 'valibot'
import YAML from 'yaml'
import type { Clock } from '../lib/index.ts'
import { readBodyBytes } from './body-bytes.ts'
import { applyImportPlan } from './config-apply.ts'
import { buildConfigDocument, ConfigDocumentSchema, readCurrentConfig, type ConfigDeps } from './config-document.ts'
import { parseConfigDocument } from './config-parse.ts'
import { hasChanges, planImport, summarizePlan } from './config-plan.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { ApiError } from './errors.ts'
import { queryFlag } from './query-flag.ts'

const TAG = 'system'
/** Thousands of proxies and routes fit with room to spare; a bound on what one request makes us parse. */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
/** Listed in the 400, so an operator sees many problems at once without a wall of text. */
const MAX_ISSUES_SHOWN = 20

const flag = queryFlag(false)
const ExportQuerySchema = v.strictObject(
  {
    /** json (the default) or yaml; without it, `Accept: application/yaml` picks YAML. */
    format: v.optional(v.picklist(['json', 'yaml'], 'expected json or yaml')),
    include_secrets: flag,
  },
  'unknown query parameter',
)
const ImportQuerySchema = v.strictObject({ dry_run: flag, prune: flag }, 'unknown query parameter')

const KindPlanSchema = v.object({ create: v.array(v.string()), update: v.array(v.string()), delete: v.array(v.string()), unchanged: v.number() })
const ImportResultSchema = v.object({
  dry_run: v.boolean(),
  prune: v.boolean(),
  /** Whether anything was (or, with dry_run, would be) written. */
  changed: v.boolean(),
  plan: v.object({
    proxies: KindPlanSchema,
    routes: KindPlanSchema,
    services: v.object({ external: KindPlanSchema }),
    oauth_clients: KindPlanSchema,
    /** By cert_name; a created or updated one is ordered in the background. */
    certificates: KindPlanSchema,
  }),
  warnings: v.array(v.string()),
})

const YAML_TYPE = /^(application|text)\/(x-)?yaml\b/i
const JSON_TYPE = /^application\/([a-z.+-]*\+)?json\b/i

function wantsYaml(c: Context, format: 'json' | 'yaml' | undefined): boolean {
  if (format !== undefined) return format === 'yaml'
  return /\b(application|text)\/(x-)?yaml\b/i.test(c.req.header('accept') ?? '')
}

function invalidDocument(issues: readonly string[]): ApiError {
  const shown = issues.slice(0, MAX_ISSUES_SHOWN).join('; ')
  const more = issues.length > MAX_ISSUES_SHOWN ? `; and ${issues.length - MAX_ISSUES_SHOWN} more` : ''
  return new ApiError(400, 'invalid_request', `the document was not imported (nothing changed): ${shown}${more}`)
}

async function readDocument(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? ''
  const isYaml = YAML_TYPE.test(type)
  if (!isYaml && !JSON_TYPE.test(type)) throw new ApiError(415, 'unsupported_media_type', 'the document must be JSON (Content-Type: application/json) or YAML (application/yaml)')
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await readBodyBytes(c, MAX_DOCUMENT_BYTES))
  } catch (error) {
    if (error instanceof ApiError) throw error
    throw new ApiError(400, 'invalid_request', 'the document is not valid UTF-8')
  }
  try {
    // YAML 1.2 core schema: plain data only, no custom tags, and no aliases: an export never writes one,
    // and yaml caps their count, not what they expand to (one 320 KiB scalar named 60 times is 19 MiB).
    return isYaml ? YAML.parse(text, { maxAliasCount: 0 }) : JSON.parse(text)
  } catch (error) {
    throw new ApiError(400, 'invalid_request', `the document is not valid ${isYaml ? 'YAML' : 'JSON'}: ${(error as Error).message.split('\n')[0]}`)
  }
}

export function systemConfigRoutes(deps: ConfigDeps & { readonly clock: Clock }): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/system/config',
      scope: 'admin',
      tag: TAG,
      summary:
        'Export the configuration (proxies, routes, external services, OAuth clients, certificate definitions without keys) as one document; secrets only with include_secrets=true',
      query: ExportQuerySchema,
      responses: { 200: { description: 'the document (application/json, or application/yaml with format=yaml)', schema: ConfigDocumentSchema } },
      async handler(c, { query }) {
        const current = await readCurrentConfig(deps)
        const document = buildConfigDocument(current, { includeSecrets: query.include_secrets, exportedAt: new Date(deps.clock.nowMs()).toISOString() })
        c.header('Cache-Control', 'no-store')
        if (!wantsYaml(c, query.format)) return c.json(document)
        return c.body(YAML.stringify(document), 200, { 'Content-Type': 'application/yaml; charset=utf-8' })
      },
    }),
    defineRoute({
      method: 'post',
      path: '/system/config',
      scope: 'admin',
      tag: TAG,
      summary:
        'Import a configuration document (application/json or application/yaml, the export\'s shape). Everything is checked before anything is written; ' +
        'entries equal to the server\'s are left alone; dry_run=true only answers the plan; prune=true also deletes what the document\'s sections lack',
      query: ImportQuerySchema,
      responses: {
        200: { description: 'the plan: applied, or with dry_run what would be', schema: ImportResultSchema },
        400: { description: 'the document is invalid; every problem named with its path; nothing changed' },
        413: { description: 'the document is larger than 16 MiB' },
        415: { description: 'neither JSON nor YAML' },
      },
      async handler(c, { query }) {
        const parsed = parseConfigDocument(await readDocument(c), { resolveCertificate: (input) => deps.certificates.resolveRequest(input) })
        if (!parsed.ok) throw invalidDocument(parsed.issues)
        const planned = planImport(await readCurrentConfig(deps), parsed.document, { prune: query.prune })
        if (!planned.ok) throw invalidDocument(planned.issues)
        const { plan } = planned
        if (!query.dry_run) await applyImportPlan(deps, plan, c.get('principal').username)
        c.header('Cache-Control', 'no-store')
        return c.json({ dry_run: query.dry_run, prune: query.prune, changed: hasChanges(plan), plan: summarizePlan(plan), warnings: plan.warnings })
      },
    }),
  ]
}
