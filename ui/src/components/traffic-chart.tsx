/**
 * @module Requests and errors per minute as a chart (uPlot, loaded on first use as a chunk of its own),
 * with a text summary for screen readers; colours follow the page's light or dark scheme.
 */
import { useEffect, useRef } from 'hono/jsx/dom'

export interface TrafficPoint {
  readonly start: string
  readonly requests: number
  readonly errors: number
}

const cssColor = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim()

export function TrafficChart(props: { points: readonly TrafficPoint[]; summary: string }) {
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const element = ref.current
    if (!element) return
    let disposed = false
    let plot: { destroy(): void; setSize(size: { width: number; height: number }): void } | null = null
    let observer: ResizeObserver | null = null
    void import('uplot').then(({ default: UPlot }) => {
      if (disposed) return
      const text = cssColor('--text')
      const axis = { stroke: text, grid: { stroke: cssColor('--border'), width: 1 }, ticks: { stroke: cssColor('--border') } }
      const data: [number[], number[], number[]] = [props.points.map((point) => Date.parse(point.start) / 1000), props.points.map((point) => point.requests), props.points.map((point) => point.errors)]
      plot = new UPlot(
        {
          width: element.clientWidth,
          height: 220,
          legend: { show: true },
          axes: [axis, axis],
          series: [{}, { label: 'requests', stroke: cssColor('--accent'), width: 2 }, { label: 'errors', stroke: cssColor('--danger'), width: 2 }],
        },
        data,
        element,
      )
      observer = new ResizeObserver(() => plot?.setSize({ width: element.clientWidth, height: 220 }))
      observer.observe(element)
    })
    return () => {
      disposed = true
      observer?.disconnect()
      plot?.destroy()
    }
  }, [props.points])
  return (
    <figure>
      <div ref={ref} class="chart" role="img" aria-label={props.summary} />
      <figcaption class="muted">{props.summary}</figcaption>
    </figure>
  )
}
