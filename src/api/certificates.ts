/**
 * @module /certificates: ACME certificates by name (admin writes, user reads). Issuance runs in the
 * background (HTTP-01), so an order answers 202 with the pending view and `/status?wait=` long-polls
 * until it settles. The chain is readable with the user scope; the private key only through its own
 * admin endpoint, and every read of it is logged (original-behaviour §12.1: the original served keys
 * to any user in the certificate's own record).
 */
import type { Context } from 'hono'
import * as v from 'valibot'
import { CERTIFICATE_STATUSES, MAX_DOMAINS, type CertificateManager, type CertificateView } from '../certs/index.ts'
import { CERT_NAME_RULE, isCertName, type Logger } from '../lib/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { ApiError } from './errors.ts'

const TAG = 'certificates'

/** Any name a certificate can have: the certificate manager's rule (lib/cert-name.ts), so "." and ".." never reach the store. */
const CertNameParams = v.object({
  cert_name: v.pipe(v.string(), v.check(isCertName, `expected ${CERT_NAME_RULE}`)),
})

/**
 * The request's shape only. What may be ordered (names, wildcards, IPs, the count, the email, an https
 * directory) is the certificate manager's rule, refused there with the field named (CertificateError 'invalid').
 */
const OrderFields = {
  email: v.optional(v.nullable(v.string('expected an email address'))),
  acme_directory_url: v.optional(v.nullable(v.string('expected the https URL of an ACME directory'))),
  /** true: ACME_STAGING_URL; otherwise the production directory (ACME_DIRECTORY_URL), unless acme_directory_url names one. */
  staging: v.optional(v.boolean('expected true or false')),
}
const DomainsSchema = v.pipe(
  v.array(v.string('expected a domain name'), 'expected a list of domain names'),
  v.maxLength(MAX_DOMAINS, `at most ${MAX_DOMAINS} domain names per certificate`),
)

/**
 * The first domain as the manager stores it (lower-case, no trailing dot): the name a proxy's own
 * certificate has. Characters no name may hold are dropped, so a domain that cannot be ordered (a
 * wildcard) is refused by the manager's check of `domains`, not reported as a bad cert_name.
 */
function defaultCertName(domains: readonly string[]): string {
  const first = (domains[0] ?? '').trim().toLowerCase().replace(/\.$/, '')
  return first.replace(/[^a-z0-9._-]/g, '').replace(/^[^a-z0-9]+/, '').replace(/\.{2,}/g, '.') || 'certificate'
}

/**
 * POST /certificates: `{domains: [...], cert_name?}`, or the original's `{domain, cert_name?}`; either way
 * the name defaults to the first domain.
 */
const CreateBodySchema = v.pipe(
  v.strictObject({ cert_name: v.optional(v.string('expected a certificate name')), domains: v.optional(DomainsSchema), domain: v.optional(v.string('expected a domain name')), ...OrderFields }, 'unknown field'),
  v.forward(
    v.check((body) => body.domains !== undefined || body.domain !== undefined, 'is required (a list of domain names; or domain, for one)'),
    ['domains'],
  ),
  v.forward(
    v.check((body) => body.domains === undefined || body.domain === undefined, 'give domain or domains, not both'),
    ['domain'],
  ),
  v.transform(({ domain, domains, cert_name, ...options }) => {
    const names = domains ?? [domain!]
    return { ...options, cert_name: cert_name ?? defaultCertName(names), domains: names }
  }),
)

/**
 * POST /certificates/multi-domain, the original's spelling: the name is required. Also the shape of a
 * configuration document's certificate entry (config-parse.ts), so the two cannot drift apart.
 */
export const MultiDomainBodySchema = v.strictObject({ cert_name: v.string('expected a certificate name'), domains: DomainsSchema, ...OrderFields }, 'unknown field')

/** At most a minute: a request held longer meets proxies' and clients' own timeouts (the CLI's is 30 s). */
const MAX_WAIT_SEC = 60
const POLL_INTERVAL_MS = 250

/** `wait=N` seconds (0-60); the original's `wait=true|false` means 60 or 0. */
const StatusQuerySchema = v.strictObject(
  {
    wait: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^(true|false|[0-9]{1,2})$/, `expected 0 to ${MAX_WAIT_SEC} seconds`),
        v.transform((text) => (text === 'true' ? MAX_WAIT_SEC : text === 'false' ? 0 : Number(text))),
        v.maxValue(MAX_WAIT_SEC, `expected 0 to ${MAX_WAIT_SEC} seconds`),
      ),
      '0',
    ),
  },
  'unknown query parameter',
)

/** Where an order ends: issued, or failed (the manager retries a failed order later, with backoff). */
const isSettled = (status: string) => status === 'issued' || status === 'failed'

const CertificateViewEntries = {
  cert_name: v.string(),
  domains: v.array(v.string()),
  status: v.picklist(CERTIFICATE_STATUSES),
  directory_url: v.string(),
  staging: v.boolean(),
  email: v.nullable(v.string()),
  issuer: v.nullable(v.string()),
  serial: v.nullable(v.string()),
  fingerprint_sha256: v.nullable(v.string()),
  not_before: v.nullable(v.string()),
  not_after: v.nullable(v.string()),
  /** The CA's (or the order's) last error, when status is failed or a retry is scheduled. */
  error: v.nullable(v.string()),
  attempts: v.number(),
  next_attempt_at: v.nullable(v.string()),
  created_at: v.string(),
  updated_at: v.string(),
  created_by: v.nullable(v.string()),
}
const CertificateViewSchema = v.object(CertificateViewEntries)
const UsedBy = { used_by: v.array(v.string()) }
const ListedCertificateSchema = v.object({ ...CertificateViewEntries, ...UsedBy })
const CertificateDetailSchema = v.object({ ...CertificateViewEntries, ...UsedBy, certificate_pem: v.nullable(v.string()) })
const StatusSchema = v.object({ status: v.picklist(CERTIFICATE_STATUSES), error: v.nullable(v.string()), not_after: v.nullable(v.string()) })
const PrivateKeySchema = v.object({ cert_name: v.string(), private_key_pem: v.string() })

/** What these routes use of the certificate manager. */
export type CertificateOperations = Pick<CertificateManager, 'create' | 'list' | 'get' | 'chainPem' | 'privateKeyPem' | 'renew' | 'convertToProduction' | 'remove'>

export interface CertificateRoutesDeps {
  /** Proxy hostnames that name this certificate: cert_name equal to it, or hostname equal to it with cert_name null. used_by keeps those it covers. */
  readonly proxiesUsing: (name: string) => Promise<string[]>
  readonly logger: Logger
}

const NOT_FOUND = { description: 'no such certificate' }
const ACCEPTED = { description: 'ordered: issuance runs in the background; poll /certificates/{cert_name}/status', schema: CertificateViewSchema }

export function certificateRoutes(certificates: CertificateOperations, deps: CertificateRoutesDeps): RouteSpec[] {
  const existing = async (name: string) => {
    const view = await certificates.get(name)
    if (!view) throw new ApiError(404, 'not_found', `no certificate named ${name}`)
    return view
  }

  /** The proxies this certificate serves: those naming it whose hostname it covers (one it does not is ordered for, ensureForProxy). */
  const usedBy = async (view: CertificateView) => (await deps.proxiesUsing(view.cert_name)).filter((hostname) => view.domains.includes(hostname.toLowerCase()))

  /** RFC 9110 §15.3.3: 202 while the CA works; 201 if the certificate was already there when answered. */
  const ordered = (c: Context, view: CertificateView) => {
    c.header('Location', `/certificates/${encodeURIComponent(view.cert_name)}`)
    return c.json(view, view.status === 'issued' ? 201 : 202)
  }

  /**
   * The original's rule: an existing name is a 409 (renew re-orders it). The manager's create-if-absent
   * decides, so of concurrent requests for one name, on any node, exactly one is ordered.
   */
  const create = async (c: Context, body: Parameters<CertificateOperations['create']>[0]) => ordered(c, await certificates.create(body, c.get('principal').username))

  /** Polls every 250 ms, at most `waitSec` × 4 times, until the status settles or the client goes away. */
  async function settledView(name: string, waitSec: number, signal: AbortSignal): Promise<CertificateView> {
    let view = await existing(name)
    for (let polls = waitSec * (1000 / POLL_INTERVAL_MS); polls > 0 && !isSettled(view.status) && !signal.aborted; polls--) {
      await Bun.sleep(POLL_INTERVAL_MS)
      view = await existing(name)
    }
    return view
  }

  const createResponses = {
    201: { description: 'already issued', schema: CertificateViewSchema },
    202: ACCEPTED,
    409: { description: 'a certificate with this name exists (or another one holds one of the domains)' },
  }

  return [
    defineRoute({
      method: 'post',
      path: '/certificates',
      scope: 'admin',
      tag: TAG,
      summary:
        'Order a certificate for one or more domain names (up to 100, no wildcards: HTTP-01 only): `{domains, cert_name?}` or the original\'s `{domain, cert_name?}`; the name defaults to the first domain',
      body: CreateBodySchema,
      responses: createResponses,
      handler: (c, { body }) => create(c, body),
    }),
    defineRoute({
      method: 'post',
      path: '/certificates/multi-domain',
      scope: 'admin',
      tag: TAG,
      summary: 'Order a certificate for several domain names under a given name (the original\'s spelling of POST /certificates)',
      body: MultiDomainBodySchema,
      responses: createResponses,
      handler: (c, { body }) => create(c, body),
    }),
    defineRoute({
      method: 'get',
      path: '/certificates',
      scope: 'user',
      tag: TAG,
      summary: 'List certificates with the proxies that serve each (used_by); no PEM',
      responses: { 200: { description: 'every certificate', schema: v.array(ListedCertificateSchema) } },
      async handler(c) {
        const views = await certificates.list()
        return c.json(await Promise.all(views.map(async (view) => ({ ...view, used_by: await usedBy(view) }))))
      },
    }),
    defineRoute({
      method: 'get',
      path: '/certificates/:cert_name',
      scope: 'user',
      tag: TAG,
      summary: 'Read one certificate, with its chain (certificate_pem, null until issued); never the private key',
      params: CertNameParams,
      responses: { 200: { description: 'the certificate', schema: CertificateDetailSchema }, 404: NOT_FOUND },
      async handler(c, { params }) {
        const view = await existing(params.cert_name)
        const [certificatePem, proxies] = await Promise.all([certificates.chainPem(params.cert_name), usedBy(view)])
        return c.json({ ...view, used_by: proxies, certificate_pem: certificatePem })
      },
    }),
    defineRoute({
      method: 'get',
      path: '/certificates/:cert_name/status',
      scope: 'user',
      tag: TAG,
      summary: `Issuance status; with wait=N (seconds, at most ${MAX_WAIT_SEC}) the answer is held until the status is issued or failed, or N seconds pass`,
      params: CertNameParams,
      query: StatusQuerySchema,
      responses: { 200: { description: 'the status now', schema: StatusSchema }, 404: NOT_FOUND },
      async handler(c, { params, query }) {
        const { status, error, not_after } = await settledView(params.cert_name, query.wait, c.req.raw.signal)
        c.header('Cache-Control', 'no-store')
        return c.json({ status, error, not_after })
      },
    }),
    defineRoute({
      method: 'post',
      path: '/certificates/:cert_name/renew',
      scope: 'admin',
      tag: TAG,
      summary: 'Order the certificate again now, for the same domains from the same directory; the current one is served until the new one is issued',
      params: CertNameParams,
      responses: { 202: ACCEPTED, 404: NOT_FOUND },
      handler: async (c, { params }) => c.json(await certificates.renew(params.cert_name), 202),
    }),
    defineRoute({
      method: 'post',
      path: '/certificates/:cert_name/convert-to-production',
      scope: 'admin',
      tag: TAG,
      summary: 'Order a staging certificate again from the production directory (ACME_DIRECTORY_URL); the staging one is served until then',
      params: CertNameParams,
      responses: { 202: ACCEPTED, 404: NOT_FOUND },
      handler: async (c, { params }) => c.json(await certificates.convertToProduction(params.cert_name), 202),
    }),
    defineRoute({
      method: 'delete',
      path: '/certificates/:cert_name',
      scope: 'admin',
      tag: TAG,
      summary:
        'Delete a certificate and its key. Proxies that served it (used_by) keep their cert_name and fall back to their own order: the self-signed certificate until one for their name is issued',
      params: CertNameParams,
      responses: { 204: { description: 'deleted' }, 404: NOT_FOUND },
      async handler(c, { params }) {
        await existing(params.cert_name)
        await certificates.remove(params.cert_name)
        return c.body(null, 204)
      },
    }),
    defineRoute({
      method: 'get',
      path: '/certificates/:cert_name/private-key',
      scope: 'admin',
      tag: TAG,
      summary: 'Read the private key (PEM, PKCS#8); every read is logged with who read it',
      params: CertNameParams,
      responses: { 200: { description: 'the key', schema: PrivateKeySchema }, 404: NOT_FOUND, 409: { description: 'no key yet: the certificate is not issued' } },
      async handler(c, { params }) {
        const view = await existing(params.cert_name)
        const key = await certificates.privateKeyPem(params.cert_name)
        if (key === null) throw new ApiError(409, 'conflict', `certificate ${params.cert_name} has no private key yet (status ${view.status})`)
        deps.logger.warn('private key read', { cert_name: params.cert_name, by: c.get('principal').username })
        c.header('Cache-Control', 'no-store')
        return c.json({ cert_name: params.cert_name, private_key_pem: key })
      },
    }),
  ]
}
