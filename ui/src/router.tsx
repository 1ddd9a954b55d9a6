/** @module Path routing under /ui/: history.pushState, links that stay in the page, focus moved to the new page's heading. */
import { useEffect, useRef, useSyncExternalStore, type PropsWithChildren } from 'hono/jsx/dom'

const listeners = new Set<() => void>()
const notify = () => listeners.forEach((listener) => listener())
window.addEventListener('popstate', notify)

const subscribe = (listener: () => void) => {
  listeners.add(listener)
  return () => listeners.delete(listener)
}
const snapshot = () => location.pathname + location.search

/** The current path and query ("/ui/proxies?q=app"). */
export function useLocation(): string {
  return useSyncExternalStore(subscribe, snapshot)
}

export function navigate(path: string, replace = false): void {
  if (path === snapshot()) return
  if (replace) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  notify()
}

/** An ordinary link (it opens in a new tab with a modifier key) that navigates in place otherwise. */
export function Link(props: PropsWithChildren<{ href: string; class?: string; 'aria-current'?: 'page' }>) {
  const follow = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    navigate(props.href)
  }
  return (
    <a href={props.href} class={props.class} aria-current={props['aria-current']} onClick={follow}>
      {props.children}
    </a>
  )
}

/** A page's heading: it takes the focus when the page opens, so keyboard and screen-reader users start there. */
export function PageTitle(props: { children: string }) {
  const ref = useRef<HTMLHeadingElement>(null)
  useEffect(() => {
    document.title = `${props.children} · oauth-https-proxy`
    ref.current?.focus()
  }, [props.children])
  return (
    <h1 ref={ref} tabIndex={-1}>
      {props.children}
    </h1>
  )
}

/** The query string of the current location as an object. */
export function queryOf(location: string): URLSearchParams {
  const at = location.indexOf('?')
  return new URLSearchParams(at === -1 ? '' : location.slice(at + 1))
}
