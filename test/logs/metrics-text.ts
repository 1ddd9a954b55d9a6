/**
 * @module Reads a /metrics exposition with a real Prometheus text parser (parse-prometheus-text-format,
 * a port of the reference parser's state machine), then checks what Prometheus itself refuses at
 * ingestion (duplicate series, histograms whose buckets are not cumulative or whose +Inf bucket differs
 * from _count) and what our renderer never writes (a family without HELP and TYPE).
 *
 * The package folds every histogram into one unlabelled entry, so sample values are read from a second
 * pass of the same parser over the text without its TYPE lines, where each line is an untyped sample.
 */
// @ts-expect-error: the package ships no type declarations; ParsedFamily below is the shape it returns
import parsePrometheusTextFormat from 'parse-prometheus-text-format'

interface ParsedFamily {
  readonly name: string
  readonly help: string
  /** COUNTER, GAUGE, HISTOGRAM, SUMMARY or UNTYPED. */
  readonly type: string
  readonly metrics: readonly { readonly value?: string; readonly labels?: Record<string, string> }[]
}

const parse = parsePrometheusTextFormat as (text: string) => ParsedFamily[]

export interface Sample {
  /** The sample's full name (with _bucket, _sum or _count for a histogram's lines). */
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Exposition {
  /** Family name → its type in lower case and its help text. */
  readonly families: ReadonlyMap<string, { readonly type: string; readonly help: string }>
  readonly samples: readonly Sample[]
}

const SUFFIXES: Readonly<Record<string, readonly string[]>> = { histogram: ['_bucket', '_sum', '_count'], counter: [''], gauge: [''] }

export function parseExposition(text: string): Exposition {
  const families = new Map<string, { type: string; help: string }>()
  for (const family of parse(text)) {
    if (families.has(family.name)) throw new Error(`family ${family.name} appears twice`)
    // Prometheus would take an untyped family; ours always declares its type, so one without is a bug.
    if (family.type === 'UNTYPED') throw new Error(`family ${family.name} has no TYPE line`)
    families.set(family.name, { type: family.type.toLowerCase(), help: family.help })
  }
  const samples: Sample[] = []
  for (const family of parse(text.replace(/^# TYPE .*\n/gm, ''))) {
    for (const metric of family.metrics) {
      if (metric.value === undefined) continue
      const value = Number(metric.value)
      if (metric.value.trim() === '' || (Number.isNaN(value) && metric.value !== 'NaN')) throw new Error(`${family.name}: value ${JSON.stringify(metric.value)} is not a number`)
      samples.push({ name: family.name, labels: metric.labels ?? {}, value })
    }
  }
  const sampleLines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length
  // The parser merges a line into the previous one when their labels are equal: a duplicate series would vanish.
  if (samples.length !== sampleLines) throw new Error(`${sampleLines} sample lines but ${samples.length} distinct samples (a duplicate series?)`)
  const seen = new Set<string>()
  for (const sample of samples) {
    const key = seriesKey(sample.name, sample.labels)
    if (seen.has(key)) throw new Error(`duplicate series ${key}`)
    seen.add(key)
    if (!familyOf(families, sample.name)) throw new Error(`sample ${sample.name} belongs to no declared family`)
  }
  checkHistograms(families, samples)
  return { families, samples }
}

function familyOf(families: ReadonlyMap<string, { type: string }>, sampleName: string): string | undefined {
  for (const [name, { type }] of families) for (const suffix of SUFFIXES[type] ?? ['']) if (`${name}${suffix}` === sampleName) return name
  return undefined
}

function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  return `${name}{${Object.keys(labels).sort().map((key) => `${key}=${JSON.stringify(labels[key])}`).join(',')}}`
}

function withoutLe(labels: Readonly<Record<string, string>>): Record<string, string> {
  const { le: _le, ...rest } = labels
  return rest
}

function checkHistograms(families: ReadonlyMap<string, { type: string }>, samples: readonly Sample[]): void {
  for (const [name, { type }] of families) {
    if (type !== 'histogram') continue
    const series = new Map<string, { buckets: [number, number][]; count?: number }>()
    for (const sample of samples) {
      if (sample.name !== `${name}_bucket` && sample.name !== `${name}_count`) continue
      const key = seriesKey(name, withoutLe(sample.labels))
      const entry = series.get(key) ?? { buckets: [] }
      series.set(key, entry)
      if (sample.name === `${name}_count`) entry.count = sample.value
      else entry.buckets.push([sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le), sample.value])
    }
    for (const [key, { buckets, count }] of series) {
      const sorted = [...buckets].sort((a, b) => a[0] - b[0])
      if (sorted.at(-1)?.[0] !== Infinity) throw new Error(`${key}: no +Inf bucket`)
      for (let i = 1; i < sorted.length; i++) if (sorted[i]![1] < sorted[i - 1]![1]) throw new Error(`${key}: buckets are not cumulative`)
      if (sorted.at(-1)![1] !== count) throw new Error(`${key}: +Inf bucket ${sorted.at(-1)![1]} but _count ${count}`)
    }
  }
}

/** Samples of `name` whose labels include every label given. */
export function samplesOf(exposition: Exposition, name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
  return exposition.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
}

/** The sum of the matching samples' values (0 when none match). */
export function sumOf(exposition: Exposition, name: string, labels: Readonly<Record<string, string>> = {}): number {
  return samplesOf(exposition, name, labels).reduce((sum, sample) => sum + sample.value, 0)
}
