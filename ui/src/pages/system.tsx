/**
 * @module System: version, this node and every node, and (admins) the configuration as one document:
 * export it, and import one with its dry run shown first as a diff of what would be created (+),
 * changed (~) and deleted (-).
 */
import { useMemo, useState } from 'hono/jsx/dom'
import { call, getJson } from '../api.ts'
import { ConfirmDialog } from '../components/dialog.tsx'
import { CheckField, ErrorAlert, TextField } from '../components/form.tsx'
import { NodesTable } from '../components/nodes-table.tsx'
import { formatTime, Loading } from '../components/status.tsx'
import { useData, useInterval } from '../components/use-data.ts'
import { PageTitle } from '../router.tsx'
import { useCanWrite } from '../session.tsx'
import type { NodeView } from '../types.ts'

interface Info {
  version: string
  runtime: string
  node_id: string
  store: string
  public_url: string
  started_at: string
}
interface KindPlan {
  create: string[]
  update: string[]
  delete: string[]
  unchanged: number
}
interface ImportResult {
  dry_run: boolean
  changed: boolean
  plan: Record<string, KindPlan | Record<string, KindPlan>>
  warnings: string[]
}

/** The plan's kinds, nested ones (services.external) flattened to "services.external". */
function kindsOf(plan: ImportResult['plan']): [string, KindPlan][] {
  return Object.entries(plan).flatMap(([name, value]) => ('create' in value ? [[name, value as KindPlan]] : Object.entries(value as Record<string, KindPlan>).map(([inner, kind]) => [`${name}.${inner}`, kind] as [string, KindPlan])))
}

function PlanDiff(props: { result: ImportResult }) {
  const lines = kindsOf(props.result.plan).flatMap(([kind, plan]) => [
    ...plan.create.map((name) => ['add', `+ ${kind} ${name}`]),
    ...plan.update.map((name) => ['change', `~ ${kind} ${name}`]),
    ...plan.delete.map((name) => ['del', `- ${kind} ${name}`]),
  ])
  const unchanged = kindsOf(props.result.plan).reduce((sum, [, plan]) => sum + plan.unchanged, 0)
  return (
    <div aria-label={props.result.dry_run ? 'What the import would change' : 'What the import changed'} role="region">
      <pre class="diff" tabIndex={0} data-testid="plan-diff">
        {lines.length === 0 ? 'no change' : lines.map(([kind, text]) => <div class={kind}>{text}</div>)}
      </pre>
      <p class="muted">{unchanged} entries unchanged.</p>
      {props.result.warnings.map((warning) => (
        <p class="notice">{warning}</p>
      ))}
    </div>
  )
}

function ConfigDocument() {
  const [exported, setExported] = useState<string | null>(null)
  const [document, setDocument] = useState('')
  const [prune, setPrune] = useState(false)
  const [result, setResult] = useState<{ result: ImportResult; for: string } | null>(null)
  const [confirming, setConfirming] = useState(false)
  const [failure, setFailure] = useState<unknown>(null)
  const run = async (dryRun: boolean) => {
    setFailure(null)
    try {
      const type = document.trim().startsWith('{') ? 'application/json' : 'application/yaml'
      const response = await call('POST', `/system/config?dry_run=${dryRun}&prune=${prune}`, { raw: { text: document, type } })
      setResult({ result: (await response.json()) as ImportResult, for: `${prune}:${document}` })
    } catch (error) {
      setFailure(error)
    }
  }
  const exportDocument = async () => {
    setFailure(null)
    try {
      setExported(await (await call('GET', '/system/config?format=yaml', { accept: 'application/yaml' })).text())
    } catch (error) {
      setFailure(error)
    }
  }
  // One object URL per export, not one per render.
  const download = useMemo(() => (exported === null ? null : URL.createObjectURL(new Blob([exported], { type: 'application/yaml' }))), [exported])
  const checked = result !== null && result.for === `${prune}:${document}` && result.result.dry_run
  return (
    <section aria-labelledby="config-heading">
      <h2 id="config-heading">Configuration</h2>
      <ErrorAlert error={failure} />
      <div class="actions">
        <button type="button" onClick={exportDocument}>
          Export as YAML
        </button>
        {download !== null && (
          <a class="button" href={download} download="oauth-https-proxy-config.yaml">
            Download
          </a>
        )}
      </div>
      {exported !== null && <TextField filter multiline label="Exported configuration" name="exported" value={exported} onInput={() => {}} hint="secrets are left out" />}
      <h3>Import</h3>
      <TextField filter multiline label="Document to import (YAML or JSON)" name="document" value={document} onInput={(value) => (setDocument(value), setResult(null))} />
      <CheckField filter label="Also delete what the document does not have (prune)" name="prune" checked={prune} onChange={(value) => (setPrune(value), setResult(null))} />
      <div class="actions">
        <button type="button" onClick={() => run(true)} disabled={document.trim() === ''}>
          Dry run
        </button>
        <button type="button" class="primary" onClick={() => setConfirming(true)} disabled={!checked || !result?.result.changed}>
          Import
        </button>
      </div>
      {result && <PlanDiff result={result.result} />}
      {confirming && (
        <ConfirmDialog title="Import this document?" confirmText="Import" onCancel={() => setConfirming(false)} onConfirm={() => (setConfirming(false), run(false))}>
          <p>The changes shown by the dry run are applied at once{prune ? ', deletions included' : ''}.</p>
        </ConfirmDialog>
      )}
    </section>
  )
}

export function SystemPage() {
  const canWrite = useCanWrite()
  const info = useData((signal) => getJson<Info>('/system/info', signal))
  const nodes = useData((signal) => getJson<{ nodes: NodeView[] }>('/system/nodes', signal))
  useInterval(nodes.reload, 15_000)
  return (
    <>
      <PageTitle>System</PageTitle>
      <ErrorAlert error={info.error ?? nodes.error} />
      {info.data ? (
        <dl class="grid2">
          <div class="field">
            <dt class="label">Version</dt>
            <dd class="value">
              {info.data.version} ({info.data.runtime})
            </dd>
          </div>
          <div class="field">
            <dt class="label">Public URL</dt>
            <dd class="value">{info.data.public_url}</dd>
          </div>
          <div class="field">
            <dt class="label">Store</dt>
            <dd class="value">{info.data.store}</dd>
          </div>
          <div class="field">
            <dt class="label">This node</dt>
            <dd class="value">
              {info.data.node_id}, started {formatTime(info.data.started_at)}
            </dd>
          </div>
        </dl>
      ) : (
        <Loading what="system information" />
      )}
      <h2>Nodes</h2>
      {nodes.data ? <NodesTable nodes={nodes.data.nodes} /> : <Loading what="nodes" />}
      {canWrite && <ConfigDocument />}
    </>
  )
}
