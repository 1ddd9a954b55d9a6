/** @module A form's state: its values as text, the API's failure of the last submit, and whether one is under way. */
import { useState } from 'hono/jsx/dom'

export interface FormState<V extends Record<string, string | boolean>> {
  readonly values: V
  readonly failure: unknown
  readonly busy: boolean
  /** A setter for one field, for a control's onInput/onChange. */
  set<K extends keyof V>(field: K): (value: V[K]) => void
  reset(values: V): void
  /** Runs `work`; its failure is kept for the fields (and the alert) to show; returns whether it succeeded. */
  submit(work: (values: V) => Promise<void>): Promise<boolean>
}

export function useForm<V extends Record<string, string | boolean>>(initial: V): FormState<V> {
  const [values, setValues] = useState<V>(initial)
  const [failure, setFailure] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  return {
    values,
    failure,
    busy,
    set: (field) => (value) => setValues((current) => ({ ...current, [field]: value })),
    reset: (next) => {
      setValues(next)
      setFailure(null)
    },
    async submit(work) {
      setBusy(true)
      setFailure(null)
      try {
        await work(values)
        return true
      } catch (error) {
        setFailure(error)
        return false
      } finally {
        setBusy(false)
      }
    },
  }
}

/** A whole number, or null for an empty box (the API's "none"); text that is no number goes to the API as is, which names the field. */
export function numberOrNull(text: string): number | null | string {
  if (text.trim() === '') return null
  const value = Number(text)
  return Number.isFinite(value) ? value : text
}

export interface Action {
  /** The last failure, for an alert; cleared when the next action starts. */
  readonly failure: unknown
  /** Runs `work`, keeps its failure, then calls the hook's `after` (a reload) either way. */
  run(work: () => Promise<unknown>): Promise<void>
}

/** A button's work (delete, revoke, start…): what the page shows when it fails, and a reload after it. */
export function useAction(after?: () => void): Action {
  const [failure, setFailure] = useState<unknown>(null)
  return {
    failure,
    async run(work) {
      setFailure(null)
      try {
        await work()
      } catch (error) {
        setFailure(error)
      }
      after?.()
    },
  }
}
