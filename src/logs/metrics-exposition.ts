/**
 * @module The Prometheus text exposition format, version 0.0.4: HELP and TYPE lines, one sample per
 * line, label values and help text escaped as the format requires.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

/** What a scraper is told it gets (the format's own media type). */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export type MetricType = 'counter' | 'gauge' | 'histogram'

/** A metric name: [a-zA-Z_:][a-zA-Z0-9_:]* (colons are for recording rules, never ours). */
export const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
/** A label name: [a-zA-Z_][a-zA-Z0-9_]*; names starting with __ are reserved for Prometheus. */
export const LABEL_NAME = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$/

/** One line of a family: the name's suffix (_bucket, _sum, _count for histograms), its labels and value. */
export interface ExpositionSample {
  readonly suffix: '' | '_bucket' | '_sum' | '_count'
  readonly labelNames: readonly string[]
  readonly labelValues: readonly string[]
  readonly value: number
}

export interface ExpositionFamily {
  readonly name: string
  readonly help: string
  readonly type: MetricType
  readonly samples: readonly ExpositionSample[]
}

/** In a label value, backslash, double quote and line feed are escaped as \\, \" and \n. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n') : value
}

/** In HELP text, backslash and line feed are escaped (a double quote stays as it is). */
export function escapeHelp(help: string): string {
  return help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')
}

/** Go's ParseFloat spellings: NaN, +Inf, -Inf; JavaScript's own decimal and exponent forms are accepted as they are. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

/** Every family in order; a family without samples still says what it is, so scrapers learn its type. */
export function renderExposition(families: readonly ExpositionFamily[]): string {
  const lines: string[] = []
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`)
    for (const sample of family.samples) lines.push(renderSample(family.name, sample))
  }
  // The format ends every line, the last one included, with a line feed.
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

function renderSample(name: string, sample: ExpositionSample): string {
  const { labelNames, labelValues } = sample
  let labels = ''
  for (let i = 0; i < labelNames.length; i++) labels += `${i === 0 ? '' : ','}${labelNames[i]}="${escapeLabelValue(labelValues[i] ?? '')}"`
  return `${name}${sample.suffix}${labels === '' ? '' : `{${labels}}`} ${formatSampleValue(sample.value)}`
}
