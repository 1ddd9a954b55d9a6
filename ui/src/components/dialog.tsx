/** @module A modal confirmation (the native <dialog>: focus kept inside, Escape cancels). */
import { useEffect, useId, useRef, type Child } from 'hono/jsx/dom'

export function ConfirmDialog(props: { title: string; children: Child; confirmText: string; onConfirm: () => void; onCancel: () => void; busy?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  useEffect(() => {
    const dialog = ref.current
    if (dialog && !dialog.open) dialog.showModal()
    const cancel = (event: Event) => {
      event.preventDefault()
      props.onCancel()
    }
    dialog?.addEventListener('cancel', cancel)
    return () => dialog?.removeEventListener('cancel', cancel)
  }, [])
  return (
    <dialog ref={ref} aria-labelledby={titleId}>
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
      <div class="actions">
        <button type="button" class="danger" onClick={props.onConfirm} disabled={props.busy}>
          {props.confirmText}
        </button>
        <button type="button" onClick={props.onCancel} autofocus>
          Cancel
        </button>
      </div>
    </dialog>
  )
}
