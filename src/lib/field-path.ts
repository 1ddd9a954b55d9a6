/**
 * @module How every 400 names a field inside a body: `volumes[0].target`, `proxies[2].domains[1]`.
 * One spelling for the schema checks (valibot issue paths) and the checks written by hand (the Docker
 * model, config import), so a user reads the same name whichever check refused the value.
 */

/** A valibot issue path's keys, as valibot gives them. */
type PathItems = readonly { readonly key: unknown }[] | undefined

/** `base` then each key: an index as `[n]`, a name after a dot. */
export function fieldPath(path: PathItems, base = ''): string {
  return (path ?? []).reduce<string>((text, item) => (typeof item.key === 'number' ? `${text}[${item.key}]` : `${text}${text ? '.' : ''}${String(item.key)}`), base)
}
