/**
 * @module Which routes apply to a proxy (original-behaviour §2.1 route_mode): `all` routes except
 * disabled_routes, only the `selective` enabled_routes, or `none`. Enabling or disabling one route
 * edits whichever list the mode reads.
 */
import * as v from 'valibot'
import { TargetError } from './errors.ts'

export const ROUTE_MODES = ['all', 'selective', 'none'] as const
export type RouteMode = (typeof ROUTE_MODES)[number]

export const RouteIdSchema = v.pipe(v.string('expected a route id'), v.regex(/^[a-z0-9-]{1,100}$/, 'expected a route id (1-100 lower-case letters, digits or "-")'))

/** A list of route ids; a repeated id is kept once. */
const RouteIdList = v.pipe(
  v.array(RouteIdSchema, 'expected a list of route ids'),
  v.maxLength(1000, 'at most 1000 route ids'),
  v.transform((ids) => [...new Set(ids)]),
)

export const RouteSettingsEntries = {
  route_mode: v.optional(v.picklist(ROUTE_MODES, 'expected "all", "selective" or "none"'), 'all'),
  /** Read in `selective` mode: the only routes that apply. */
  enabled_routes: v.optional(RouteIdList, []),
  /** Read in `all` mode: the routes that do not apply. */
  disabled_routes: v.optional(RouteIdList, []),
}

export const RouteSettingsSchema = v.object(RouteSettingsEntries)
export type RouteSettings = v.InferOutput<typeof RouteSettingsSchema>

export type RouteUse = 'enable' | 'disable'

/** The lists after turning one route on or off for a proxy; in `none` mode no route applies, so there is nothing to edit. */
export function withRouteUse(settings: RouteSettings, routeId: string, use: RouteUse): Pick<RouteSettings, 'enabled_routes' | 'disabled_routes'> {
  const add = (ids: readonly string[]) => (ids.includes(routeId) ? [...ids] : [...ids, routeId])
  const drop = (ids: readonly string[]) => ids.filter((id) => id !== routeId)
  switch (settings.route_mode) {
    case 'selective':
      return { enabled_routes: use === 'enable' ? add(settings.enabled_routes) : drop(settings.enabled_routes), disabled_routes: [...settings.disabled_routes] }
    case 'all':
      return { enabled_routes: [...settings.enabled_routes], disabled_routes: use === 'enable' ? drop(settings.disabled_routes) : add(settings.disabled_routes) }
    case 'none':
      throw new TargetError('invalid', 'is "none", so no route applies; change it to "all" or "selective" first', 'route_mode')
    default: {
      const unreachable: never = settings.route_mode
      throw new Error(`unknown route_mode ${String(unreachable)}`)
    }
  }
}
