/**
 * @module A list that stays fast at any length: it renders only the rows in view (and a few beyond),
 * each at its own offset, inside a scrollable region that the keyboard can scroll (it takes focus).
 * The rows are a table for assistive technology (role="table", aria-rowcount, aria-rowindex).
 */
import { useEffect, useRef, useState, type Child } from 'hono/jsx/dom'

const ROW_PX = 40
const OVERSCAN = 8

export function VirtualList<T>(props: { label: string; items: readonly T[]; columns: readonly string[]; row: (item: T) => Child[]; keyOf: (item: T) => string }) {
  const ref = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [heightPx, setHeightPx] = useState(600)
  useEffect(() => {
    const element = ref.current
    if (!element) return
    const measure = () => setHeightPx(element.clientHeight)
    measure()
    const observer = new ResizeObserver(measure)
    observer.observe(element)
    return () => observer.disconnect()
  }, [])
  // A new filter starts at the top.
  useEffect(() => {
    if (ref.current) ref.current.scrollTop = 0
    setScrollTop(0)
  }, [props.items])
  const first = Math.max(0, Math.floor(scrollTop / ROW_PX) - OVERSCAN)
  const last = Math.min(props.items.length, Math.ceil((scrollTop + heightPx) / ROW_PX) + OVERSCAN)
  const visible = props.items.slice(first, last)
  return (
    <div ref={ref} class="vlist" tabIndex={0} role="region" aria-label={props.label} onScroll={(event: Event) => setScrollTop((event.target as HTMLElement).scrollTop)}>
      <div role="table" aria-label={props.label} aria-rowcount={props.items.length + 1} style={{ height: `${(props.items.length + 1) * ROW_PX}px` }}>
        <div role="row" class="vrow head" aria-rowindex={1}>
          {props.columns.map((column, index) => (
            <span role="columnheader" class={index > 0 && index < props.columns.length - 1 ? 'wide' : undefined}>
              {column}
            </span>
          ))}
        </div>
        {visible.map((item, offset) => (
          <div role="row" class="vrow" key={props.keyOf(item)} aria-rowindex={first + offset + 2} style={{ top: `${(first + offset + 1) * ROW_PX}px` }}>
            {props.row(item).map((cell, index) => (
              <span role="cell" class={index > 0 && index < props.columns.length - 1 ? 'wide' : undefined}>
                {cell}
              </span>
            ))}
          </div>
        ))}
      </div>
    </div>
  )
}
