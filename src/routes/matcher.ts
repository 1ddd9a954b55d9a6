/**
 * @module The compiled route table the data plane asks, on every request, which route (if any) takes it.
 *
 * Cost per request does not grow with the number of routes. Each route is filed under the literal text
 * every matching path starts with (a prefix pattern itself; for a regex, its literal start, see
 * `literalPrefixOf`) in a radix trie: one for global routes, one per hostname for proxy-scoped ones. A
 * request walks its path down both tries once, character by character without allocating, and only
 * the routes filed along the way are candidates. Routes are ranked once at compile time, each trie node
 * keeps its routes in rank order, and a candidate is only checked if it would beat the best found so
 * far. Regexes that share a node beyond a few run as one RE2 set: one linear pass over the path
 * instead of one per regex (this is where regexes with no literal start end up, on the root).
 */
import { RE2Set, type Matcher } from 're2js'
import type { ProxyRouteSettings, Route } from './model.ts'
import { byMatchingOrder } from './order.ts'
import { checkPattern, compileRegexPattern, literalPrefixOf } from './pattern.ts'

export interface RouteMatch {
  readonly route: Route
  /** How many characters at the start of the path the pattern matched (what strip_prefix removes). */
  readonly matchedLength: number
}

/**
 * Compiled once per configuration change and never changed by it; `match` is synchronous, so one table
 * serves every listener of the process. Hostnames are compared exactly: `proxy_hostname` must be
 * normalised the way routes' `proxy_hostnames` are (lower case).
 */
export interface RouteTable {
  /** The first route, in the order routes are tried for this proxy, that applies to it, is enabled, allows the method and matches the path (path = the request path without query). */
  match(proxy: ProxyRouteSettings, method: string, path: string): RouteMatch | null
  /** Every enabled route that applies to this proxy, in the order they are tried. */
  applicable(proxy: ProxyRouteSettings): Route[]
  /** How many routes the table was compiled from, disabled and unusable ones included. */
  readonly size: number
}

/**
 * `previous` lets compiled regexes be reused across rebuilds (compiling 10,000 patterns again on every change would be slow).
 *
 * A route whose pattern fails `checkPattern` (a document stored before validation, or edited by hand)
 * never matches; it is still listed by `applicable`, which is about scope and mode, not patterns.
 */
export function compileRouteTable(routes: readonly Route[], previous?: RouteTable): RouteTable {
  const previousCache = previous instanceof CompiledRouteTable ? previous.cache : EMPTY_CACHE
  return new CompiledRouteTable(routes, previousCache)
}

/** Regexes sharing one trie node are run as one RE2 set from this many on: below it, trying them one
 * by one (~150 ns per miss) is cheaper than a set's pass (~250–350 ns) plus the winner's own run. */
const REGEX_SET_THRESHOLD = 4
/** Lists of route ids (a proxy's enabled/disabled routes) longer than this are looked up through a Set. */
const ID_LIST_SCAN_LIMIT = 8
const SLASH = 0x2f

/** What is kept from one compile to the next, keyed by pattern text; `null` marks an unusable pattern. */
interface CompileCache {
  readonly regexes: ReadonlyMap<string, Matcher | null>
  readonly regexSets: ReadonlyMap<string, RE2Set>
}
const EMPTY_CACHE: CompileCache = { regexes: new Map(), regexSets: new Map() }

/** A route ready for the hot path. `rank` is its position in the order routes are tried. */
interface CompiledRoute {
  readonly route: Route
  readonly rank: number
  readonly methods: ReadonlySet<string> | null
  /** Prefix routes: must the path end, or continue with "/", right after the pattern? */
  readonly needsSegmentBoundary: boolean
  /** Prefix routes: what strip_prefix removes. */
  readonly prefixMatchedLength: number
  /**
   * Regex routes: a Matcher kept for the life of the compiled regex and pointed at each path in turn
   * (`resetMatcherInput`), so trying a regex allocates no Matcher. Shared by every route and table with
   * the same pattern; safe because matching is synchronous and every use starts with a reset.
   */
  readonly regex: Matcher | null
}

/** A radix-trie node: the key is the concatenation of the edge labels from the root. */
interface TrieNode {
  label: string
  /** Keyed by the first character code of the child's label. */
  children: Map<number, TrieNode> | null
  /** Prefix routes whose pattern is this node's key, in rank order. */
  prefixRoutes: CompiledRoute[]
  /** Regex routes whose literal start is this node's key, in rank order. */
  regexRoutes: CompiledRoute[]
  /** All of `regexRoutes` as one RE2 set (ids = indexes) when there are enough of them. */
  regexSet: RE2Set | null
}

class CompiledRouteTable implements RouteTable {
  readonly size: number
  readonly cache: CompileCache
  /** Enabled routes in the order they are tried (`byMatchingOrder`; usable patterns or not), for `applicable`. */
  private readonly ordered: readonly Route[]
  private readonly globalRoot: TrieNode
  private readonly rootByHostname: ReadonlyMap<string, TrieNode>
  /** Sets built from long enabled/disabled lists, per list object; the only state that changes after
   * compile, and only by adding what is derived from immutable input. */
  private readonly idSets = new WeakMap<readonly string[], ReadonlySet<string>>()
  /** matchedLength of the best candidate so far, within one synchronous `match()` call. */
  private bestLength = 0

  constructor(routes: readonly Route[], previous: CompileCache) {
    this.size = routes.length
    this.ordered = routes.filter((route) => route.enabled).sort(byMatchingOrder)
    const regexes = new Map<string, Matcher | null>()
    const regexSets = new Map<string, RE2Set>()
    this.globalRoot = createNode('')
    const roots = new Map<string, TrieNode>()
    this.ordered.forEach((route, rank) => {
      const compiled = compileRoute(route, rank, previous.regexes, regexes)
      if (compiled === null) return
      const key = route.is_regex ? literalPrefixOf(route.path_pattern) : route.path_pattern
      if (route.scope === 'global') insertRoute(this.globalRoot, key, compiled)
      else {
        for (const hostname of new Set(route.proxy_hostnames)) {
          let root = roots.get(hostname)
          if (root === undefined) roots.set(hostname, (root = createNode('')))
          insertRoute(root, key, compiled)
        }
      }
    })
    this.rootByHostname = roots
    for (const root of [this.globalRoot, ...roots.values()]) buildRegexSets(root, previous.regexSets, regexSets)
    this.cache = { regexes, regexSets }
  }

  match(proxy: ProxyRouteSettings, method: string, path: string): RouteMatch | null {
    if (proxy.route_mode === 'none') return null
    let best = this.bestIn(this.globalRoot, proxy, method, path, null)
    const hostRoot = this.rootByHostname.get(proxy.proxy_hostname)
    if (hostRoot !== undefined) best = this.bestIn(hostRoot, proxy, method, path, best)
    if (best === null) return null
    return { route: best.route, matchedLength: this.bestLength }
  }

  applicable(proxy: ProxyRouteSettings): Route[] {
    if (proxy.route_mode === 'none') return []
    return this.ordered.filter(
      (route) =>
        (route.scope === 'global' || route.proxy_hostnames.includes(proxy.proxy_hostname)) && this.isAllowedByMode(route.route_id, proxy),
    )
  }

  /** Walks `path` down the trie from `root`; returns the best-ranked candidate that fully matches, or `best` if none beats it. */
  private bestIn(root: TrieNode, proxy: ProxyRouteSettings, method: string, path: string, best: CompiledRoute | null): CompiledRoute | null {
    let node = root
    let depth = 0
    for (;;) {
      best = this.bestAt(node, depth, proxy, method, path, best)
      if (depth >= path.length || node.children === null) return best
      const child = node.children.get(path.charCodeAt(depth))
      if (child === undefined || !path.startsWith(child.label, depth)) return best
      node = child
      depth += child.label.length
    }
  }

  /** The candidates filed at `node`, whose key (`depth` characters long) the path is known to start with. */
  private bestAt(node: TrieNode, depth: number, proxy: ProxyRouteSettings, method: string, path: string, best: CompiledRoute | null): CompiledRoute | null {
    for (const candidate of node.prefixRoutes) {
      if (best !== null && candidate.rank >= best.rank) break
      const isOnBoundary = !candidate.needsSegmentBoundary || path.length === depth || path.charCodeAt(depth) === SLASH
      if (isOnBoundary && this.isAllowed(candidate, proxy, method)) {
        best = candidate
        this.bestLength = candidate.prefixMatchedLength
        break
      }
    }
    const regexRoutes = node.regexRoutes
    if (regexRoutes.length === 0 || (best !== null && regexRoutes[0]!.rank >= best.rank)) return best
    if (node.regexSet !== null) {
      // One pass over the path for every regex here; ids are indexes into regexRoutes.
      let bestHere: CompiledRoute | null = null
      for (const id of node.regexSet.match(path)) {
        const candidate = regexRoutes[id]!
        if ((bestHere === null || candidate.rank < bestHere.rank) && this.isAllowed(candidate, proxy, method)) bestHere = candidate
      }
      if (bestHere === null || (best !== null && bestHere.rank >= best.rank)) return best
      // The set says whether, the route's own matcher how much: RE2 sets do not report match ends.
      const length = matchLengthAtStart(bestHere.regex!, path)
      if (length < 0) return best
      this.bestLength = length
      return bestHere
    }
    for (const candidate of regexRoutes) {
      if (best !== null && candidate.rank >= best.rank) break
      if (!this.isAllowed(candidate, proxy, method)) continue
      const length = matchLengthAtStart(candidate.regex!, path)
      if (length >= 0) {
        this.bestLength = length
        return candidate
      }
    }
    return best
  }

  private isAllowed(candidate: CompiledRoute, proxy: ProxyRouteSettings, method: string): boolean {
    if (candidate.methods !== null && !candidate.methods.has(method)) return false
    return this.isAllowedByMode(candidate.route.route_id, proxy)
  }

  /** Original §5 step 3.3: `selective` tries only the listed routes, `all` every route but the listed ones. */
  private isAllowedByMode(routeId: string, proxy: ProxyRouteSettings): boolean {
    switch (proxy.route_mode) {
      case 'none':
        return false
      case 'selective':
        return this.isListed(proxy.enabled_routes, routeId)
      case 'all':
        return !this.isListed(proxy.disabled_routes, routeId)
    }
  }

  private isListed(ids: readonly string[], routeId: string): boolean {
    if (ids.length <= ID_LIST_SCAN_LIMIT) return ids.includes(routeId)
    let set = this.idSets.get(ids)
    if (set === undefined) this.idSets.set(ids, (set = new Set(ids)))
    return set.has(routeId)
  }
}

/** null for a route that can never match: an unusable pattern. */
function compileRoute(route: Route, rank: number, previous: CompileCache['regexes'], next: Map<string, Matcher | null>): CompiledRoute | null {
  const pattern = route.path_pattern
  const methods = route.methods === null ? null : new Set(route.methods)
  if (!route.is_regex) {
    if (checkPattern(pattern, false) !== null) return null
    const hasTrailingSlash = pattern.endsWith('/')
    return {
      route,
      rank,
      methods,
      needsSegmentBoundary: !hasTrailingSlash,
      // strip_prefix of `/api` or `/api/` on `/api/x` leaves `/x`; of `/` leaves the path as it is.
      prefixMatchedLength: hasTrailingSlash ? pattern.length - 1 : pattern.length,
      regex: null,
    }
  }
  let regex = next.has(pattern) ? next.get(pattern) : previous.get(pattern)
  if (regex === undefined) {
    const compiled = compileRegexPattern(pattern)
    regex = 'regex' in compiled ? compiled.regex.matcher('') : null
  }
  next.set(pattern, regex)
  if (regex === null) return null
  return { route, rank, methods, needsSegmentBoundary: false, prefixMatchedLength: 0, regex }
}

/**
 * The length of the regex's match at the start of `path` (like Python's `re.match`, the original's
 * semantics: anchored at the start, not at the end), or -1 when it does not match there.
 */
function matchLengthAtStart(matcher: Matcher, path: string): number {
  return matcher.resetMatcherInput(path).lookingAt() ? matcher.end() : -1
}

function createNode(label: string): TrieNode {
  return { label, children: null, prefixRoutes: [], regexRoutes: [], regexSet: null }
}

/** Files `route` at the node for `key`, splitting an edge where `key` ends or diverges inside it. Routes
 * arrive in rank order, so pushing keeps every node's lists sorted. */
function insertRoute(root: TrieNode, key: string, route: CompiledRoute): void {
  let node = root
  let depth = 0
  while (depth < key.length) {
    const code = key.charCodeAt(depth)
    const children = (node.children ??= new Map())
    const child = children.get(code)
    if (child === undefined) {
      const leaf = createNode(key.slice(depth))
      children.set(code, leaf)
      node = leaf
      depth = key.length
      break
    }
    const common = commonPrefixLength(child.label, key, depth)
    if (common < child.label.length) {
      // Split: a new node for the shared part, with the old child below it.
      const middle = createNode(child.label.slice(0, common))
      child.label = child.label.slice(common)
      middle.children = new Map([[child.label.charCodeAt(0), child]])
      children.set(code, middle)
      node = middle
    } else {
      node = child
    }
    depth += common
  }
  if (route.regex === null) node.prefixRoutes.push(route)
  else node.regexRoutes.push(route)
}

/** How many characters of `label` equal those of `key` from `offset`. */
function commonPrefixLength(label: string, key: string, offset: number): number {
  let i = 0
  while (i < label.length && offset + i < key.length && label.charCodeAt(i) === key.charCodeAt(offset + i)) i += 1
  return i
}

function buildRegexSets(root: TrieNode, previous: CompileCache['regexSets'], next: Map<string, RE2Set>): void {
  const pending = [root]
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (node.children !== null) pending.push(...node.children.values())
    if (node.regexRoutes.length < REGEX_SET_THRESHOLD) continue
    const patterns = node.regexRoutes.map((candidate) => candidate.route.path_pattern)
    const cacheKey = JSON.stringify(patterns)
    let set = next.get(cacheKey) ?? previous.get(cacheKey)
    if (set === undefined) {
      // ANCHOR_START: like each regex alone, a set member matches at the start of the path only.
      set = new RE2Set(RE2Set.ANCHOR_START)
      for (const pattern of patterns) set.add(pattern)
      set.compile()
    }
    next.set(cacheKey, set)
    node.regexSet = set
  }
}
