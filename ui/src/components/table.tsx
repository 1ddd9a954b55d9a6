/**
 * @module A data table as every page shows one: scrolled sideways on a narrow screen, named for screen
 * readers, with a header cell (scope="col") per column.
 */
import type { Child } from 'hono/jsx/dom'

/** `columns`: the header of each column; one given as false is left out (Actions, for a reader who cannot write). */
export function Table(props: { label: string; columns: readonly (string | false | undefined)[]; children: Child }) {
  return (
    <div class="table-wrap">
      <table aria-label={props.label}>
        <thead>
          <tr>
            {props.columns.map((column) => column && <th scope="col">{column}</th>)}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  )
}
