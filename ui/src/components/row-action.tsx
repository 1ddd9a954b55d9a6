/**
 * @module A button acting on one row of a table: the verb is what is seen, and the row it acts on is
 * read out with it, so that a screen reader's list of buttons says "Delete app.example.com", not nine
 * times "Delete" (WCAG 2.4.6, headings and labels; 2.4.4, purpose in context).
 */

export function RowAction(props: { label: string; row: string; danger?: boolean; pressed?: boolean; onClick: () => void }) {
  return (
    <button type="button" class={props.danger ? 'danger' : undefined} aria-pressed={props.pressed} onClick={props.onClick}>
      {props.label} <span class="sr-only">{props.row}</span>
    </button>
  )
}
