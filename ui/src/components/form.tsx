/** @module Labelled form controls; a field the API named in its 400 shows the API's message beside it. */
import { useId, type Child } from 'hono/jsx/dom'
import { ApiFailure } from '../api.ts'
import { useCanWrite } from '../session.tsx'

/** What a reader sees instead of a control: the label and the value, nothing to change. */
function ValueView(props: { label: string; value: string }) {
  return (
    <div class="field">
      <span class="label">{props.label}</span>
      <span class="value">{props.value === '' ? '—' : props.value}</span>
    </div>
  )
}

interface FieldProps {
  readonly label: string
  readonly name: string
  readonly value: string
  readonly onInput: (value: string) => void
  readonly error?: string | null
  readonly hint?: string
  readonly type?: string
  readonly required?: boolean
  readonly placeholder?: string
  readonly disabled?: boolean
  readonly multiline?: boolean
  readonly autocomplete?: string
  readonly inputmode?: 'numeric' | 'text' | 'email' | 'url'
  /** A search or filter box: editable for readers too. */
  readonly filter?: boolean
}

/** Forms of settings render as plain values for someone who may not change them (a `user`). */
export function TextField(props: FieldProps) {
  const canWrite = useCanWrite()
  const id = useId()
  if (!canWrite && !props.filter) return <ValueView label={props.label} value={props.value} />
  const hintId = `${id}-hint`
  const errorId = `${id}-error`
  const described = [props.hint ? hintId : '', props.error ? errorId : ''].filter(Boolean).join(' ') || undefined
  const common = {
    id,
    name: props.name,
    value: props.value,
    required: props.required,
    disabled: props.disabled,
    placeholder: props.placeholder,
    'aria-invalid': props.error ? 'true' : undefined,
    'aria-describedby': described,
    onInput: (event: Event) => props.onInput((event.target as HTMLInputElement).value),
  }
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.multiline ? <textarea {...common} /> : <input type={props.type ?? 'text'} inputmode={props.inputmode} autocomplete={props.autocomplete ?? 'off'} {...common} />}
      {props.hint && (
        <span id={hintId} class="hint">
          {props.hint}
        </span>
      )}
      {props.error && (
        <span id={errorId} class="error" data-field-error={props.name}>
          {props.error}
        </span>
      )}
    </div>
  )
}

export function CheckField(props: { label: string; name: string; checked: boolean; onChange: (checked: boolean) => void; disabled?: boolean; filter?: boolean }) {
  const canWrite = useCanWrite()
  const id = useId()
  if (!canWrite && !props.filter) return <ValueView label={props.label} value={props.checked ? 'yes' : 'no'} />
  return (
    <div class="check">
      <input id={id} type="checkbox" name={props.name} checked={props.checked} disabled={props.disabled} onChange={(event: Event) => props.onChange((event.target as HTMLInputElement).checked)} />
      <label for={id}>{props.label}</label>
    </div>
  )
}

export function SelectField(props: { label: string; name: string; value: string; options: readonly (readonly [string, string])[]; onChange: (value: string) => void; error?: string | null; filter?: boolean }) {
  const canWrite = useCanWrite()
  const id = useId()
  if (!canWrite && !props.filter) return <ValueView label={props.label} value={props.options.find(([value]) => value === props.value)?.[1] ?? props.value} />
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} onChange={(event: Event) => props.onChange((event.target as HTMLSelectElement).value)} aria-invalid={props.error ? 'true' : undefined}>
        {props.options.map(([value, text]) => (
          <option value={value} selected={value === props.value}>
            {text}
          </option>
        ))}
      </select>
      {props.error && (
        <span class="error" data-field-error={props.name}>
          {props.error}
        </span>
      )}
    </div>
  )
}

/** A failure that no field shows: in an alert, announced to screen readers. */
export function ErrorAlert(props: { error: unknown; children?: Child }) {
  if (!props.error) return null
  const text = props.error instanceof ApiFailure ? props.error.description : props.error instanceof Error ? props.error.message : String(props.error)
  return (
    <div class="alert" role="alert">
      {props.children}
      {text}
    </div>
  )
}

/** The message for `field` when the failure names it (or one of its sub-fields: "custom_headers.x"). */
export function fieldError(failure: unknown, field: string): string | null {
  if (!(failure instanceof ApiFailure) || failure.field === null) return null
  return failure.field === field || failure.field.startsWith(`${field}.`) ? failure.description : null
}

/** Whether some field of `fields` shows the failure; otherwise the form shows it in an alert. */
export function isFieldFailure(failure: unknown, fields: readonly string[]): boolean {
  return fields.some((field) => fieldError(failure, field) !== null)
}

/** "a, b,c" → ["a", "b", "c"]; empty → null (the API's "no list"). */
export function listOf(text: string): string[] | null {
  const items = text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item !== '')
  return items.length === 0 ? null : items
}
