/** @module Loading what a page shows: the value, the failure, and a reload; a newer load wins over an older one. */
import { useCallback, useEffect, useRef, useState } from 'hono/jsx/dom'

export interface Loaded<T> {
  readonly data: T | undefined
  readonly error: Error | null
  readonly loading: boolean
  reload(): void
}

export function useData<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[] = []): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: Error | null; loading: boolean }>({ data: undefined, error: null, loading: true })
  const [generation, setGeneration] = useState(0)
  const latest = useRef(0)
  useEffect(() => {
    const controller = new AbortController()
    const id = ++latest.current
    setState((previous) => ({ ...previous, loading: true }))
    load(controller.signal).then(
      (data) => id === latest.current && setState({ data, error: null, loading: false }),
      (error: Error) => id === latest.current && error.name !== 'AbortError' && setState((previous) => ({ data: previous.data, error, loading: false })),
    )
    return () => controller.abort()
  }, [...deps, generation])
  const reload = useCallback(() => setGeneration((n) => n + 1), [])
  return { ...state, reload }
}

/** Calls `tick` every `intervalMs` while the page is visible (the floor: never faster than 5 s). */
export function useInterval(tick: () => void, intervalMs: number): void {
  const saved = useRef(tick)
  saved.current = tick
  useEffect(() => {
    const timer = setInterval(() => document.visibilityState === 'visible' && saved.current(), Math.max(intervalMs, 5_000))
    return () => clearInterval(timer)
  }, [intervalMs])
}
