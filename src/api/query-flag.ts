/** @module Query parameters that are switches (`?force=true`) or counts (`?tail=100`): checked, so a typo is a 400 naming it. */
import * as v from 'valibot'

const FlagSchema = v.pipe(v.picklist(['true', 'false'], 'expected true or false'), v.transform((text) => text === 'true'))

/** "true" or "false", read as a boolean; `fallback` when it is not given. */
export const queryFlag = (fallback: boolean) => v.optional(FlagSchema, fallback ? 'true' : 'false')

/** "true" or "false", or undefined when it is not given (something else then decides). */
export const optionalQueryFlag = () => v.optional(FlagSchema)

/** A whole number within [min, max]. */
export const queryCount = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{1,9}$/, `expected a whole number from ${min} to ${max}`),
    v.transform(Number),
    v.minValue(min, `expected a whole number from ${min} to ${max}`),
    v.maxValue(max, `expected a whole number from ${min} to ${max}`),
  )
