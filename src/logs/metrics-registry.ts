/**
 * @module A small metrics registry: counters and histograms the process updates (each label set a
 * child that callers keep, so an update is a field increment with no lookup and no allocation), and
 * families read at scrape time from a callback (gauges of live state, counters kept elsewhere).
 * Rendered in the Prometheus text format (metrics-exposition.ts).
 */
import { LABEL_NAME, METRIC_NAME, renderExposition, type ExpositionFamily, type ExpositionSample, type MetricType } from './metrics-exposition.ts'

export interface FamilyOptions {
  /** With its unit as a suffix (_seconds, _bytes) and _total for counters, per Prometheus naming. */
  readonly name: string
  readonly help: string
  readonly labelNames?: readonly string[]
}

export interface CounterChild {
  /** Adds `by` (default 1); a counter only goes up. */
  inc(by?: number): void
}

export interface Counter {
  /** The child for these label values, in labelNames order; created once, then the same object. */
  child(...labelValues: string[]): CounterChild
}

export interface HistogramChild {
  observe(value: number): void
}

export interface Histogram {
  child(...labelValues: string[]): HistogramChild
}

/** One sample of a family read at scrape time: its label values in labelNames order. */
export interface CollectedSample {
  readonly labelValues: readonly string[]
  readonly value: number
}

export interface CollectedFamilyOptions extends FamilyOptions {
  readonly type: 'counter' | 'gauge'
  /** Called on every scrape; a family whose read fails shows no samples in that scrape. */
  readonly read: () => Iterable<CollectedSample> | Promise<Iterable<CollectedSample>>
}

export interface MetricsRegistry {
  counter(options: FamilyOptions): Counter
  histogram(options: FamilyOptions & { readonly buckets: readonly number[] }): Histogram
  collected(options: CollectedFamilyOptions): void
  /** Every family in registration order, as Prometheus text; reads the collected families concurrently. */
  render(): Promise<string>
}

/** How a family turns into samples at scrape time. */
type Snapshot = () => readonly ExpositionSample[] | Promise<readonly ExpositionSample[]>

interface Registered {
  readonly name: string
  readonly help: string
  readonly type: MetricType
  readonly snapshot: Snapshot
}

export function createMetricsRegistry(onReadError: (name: string, error: unknown) => void = () => {}): MetricsRegistry {
  const families: Registered[] = []

  const register = (options: FamilyOptions, type: MetricType, snapshot: Snapshot) => {
    if (!METRIC_NAME.test(options.name)) throw new RangeError(`metric name ${options.name}: expected [a-zA-Z_][a-zA-Z0-9_]*`)
    if (families.some((family) => family.name === options.name)) throw new RangeError(`metric ${options.name} is registered twice`)
    for (const label of options.labelNames ?? []) {
      if (!LABEL_NAME.test(label)) throw new RangeError(`metric ${options.name}: label name ${label} is not valid`)
      // The format reserves le for histogram buckets (and quantile for summaries).
      if (label === 'le' || label === 'quantile') throw new RangeError(`metric ${options.name}: label name ${label} is reserved`)
    }
    families.push({ name: options.name, help: options.help, type, snapshot })
  }

  /** Children keyed by their label values; the values are checked against the family's arity once, on creation. */
  const childrenOf = <C>(options: FamilyOptions, make: (labelValues: readonly string[]) => C) => {
    const labelCount = options.labelNames?.length ?? 0
    const children = new Map<string, { readonly labelValues: readonly string[]; readonly child: C }>()
    const child = (labelValues: string[]): C => {
      const key = labelValues.join('\u0000')
      const found = children.get(key)
      if (found) return found.child
      if (labelValues.length !== labelCount) throw new RangeError(`metric ${options.name}: expected ${labelCount} label values, got ${labelValues.length}`)
      const made = make(labelValues)
      children.set(key, { labelValues, child: made })
      return made
    }
    return { child, children: children.values.bind(children) }
  }

  return {
    counter(options) {
      const labelNames = options.labelNames ?? []
      const { child, children } = childrenOf(options, () => {
        const counter = {
          value: 0,
          inc(by = 1) {
            if (!(by >= 0)) throw new RangeError(`metric ${options.name}: a counter cannot go down (inc ${by})`)
            counter.value += by
          },
        }
        return counter
      })
      register(options, 'counter', () => [...children()].map(({ labelValues, child }) => ({ suffix: '', labelNames, labelValues, value: child.value })))
      return { child: (...labelValues) => child(labelValues) }
    },

    histogram(options) {
      const labelNames = options.labelNames ?? []
      const bounds = [...options.buckets]
      if (bounds.length === 0 || bounds.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= bounds[i - 1]!))) {
        throw new RangeError(`metric ${options.name}: buckets must be finite and strictly increasing`)
      }
      const bucketLabelNames = [...labelNames, 'le']
      const upperBounds = [...bounds.map(String), '+Inf']
      const { child, children } = childrenOf(options, () => {
        // Per-bucket counts, not cumulative: an observation touches one slot; the scrape adds them up.
        const counts = new Float64Array(bounds.length + 1)
        const state = {
          counts,
          sum: 0,
          observe(value: number) {
            let i = 0
            while (i < bounds.length && value > bounds[i]!) i++
            counts[i]!++
            state.sum += value
          },
        }
        return state
      })
      register(options, 'histogram', () => {
        const samples: ExpositionSample[] = []
        for (const { labelValues, child } of children()) {
          let cumulative = 0
          for (let i = 0; i < upperBounds.length; i++) {
            cumulative += child.counts[i]!
            samples.push({ suffix: '_bucket', labelNames: bucketLabelNames, labelValues: [...labelValues, upperBounds[i]!], value: cumulative })
          }
          samples.push({ suffix: '_sum', labelNames, labelValues, value: child.sum })
          samples.push({ suffix: '_count', labelNames, labelValues, value: cumulative })
        }
        return samples
      })
      return { child: (...labelValues) => child(labelValues) }
    },

    collected(options) {
      const labelNames = options.labelNames ?? []
      register(options, options.type, async () => {
        try {
          const samples: ExpositionSample[] = []
          for (const sample of await options.read()) {
            if (sample.labelValues.length !== labelNames.length) throw new RangeError(`expected ${labelNames.length} label values, got ${sample.labelValues.length}`)
            samples.push({ suffix: '', labelNames, labelValues: sample.labelValues, value: sample.value })
          }
          return samples
        } catch (error) {
          onReadError(options.name, error)
          return []
        }
      })
    },

    async render() {
      const snapshots = await Promise.all(families.map((family) => family.snapshot()))
      const rendered: ExpositionFamily[] = families.map((family, i) => ({ name: family.name, help: family.help, type: family.type, samples: snapshots[i]! }))
      return renderExposition(rendered)
    },
  }
}
