/**
 * @module A Server-Sent Events reader (HTML Living Standard §9.2.6, "Interpreting an event stream"):
 * text arrives in chunks of any size; lines end in CRLF, LF or CR (a CR at a chunk's end may be the
 * first half of a CRLF); `:` starts a comment; `field: value` loses one leading space; a blank line
 * dispatches the event, unless it carried no data.
 */

export interface ServerSentEvent {
  /** `event:`, or "message" when none was given. */
  readonly type: string
  /** The `data:` lines joined with "\n". */
  readonly data: string
  /** The last `id:` seen on the stream (the spec's last event ID buffer). */
  readonly lastEventId: string
}

export interface SseParser {
  /** Feeds decoded text; complete events are handed to `onEvent` at once. */
  push(text: string): void
}

/** `onComment` hears comment lines without their ":" (a server's notes, such as records it skipped). */
export function createSseParser(onEvent: (event: ServerSentEvent) => void, onComment: (text: string) => void = () => {}): SseParser {
  let pending = ''
  /** The chunk before ended in CR: a LF at the start of this one belongs to that line end. */
  let afterCr = false
  let type = ''
  let data: string[] = []
  let lastEventId = ''

  const dispatch = () => {
    // §9.2.6: an event without data is not dispatched; its type is forgotten either way.
    if (data.length > 0) onEvent({ type: type === '' ? 'message' : type, data: data.join('\n'), lastEventId })
    type = ''
    data = []
  }

  const line = (text: string) => {
    if (text === '') return dispatch()
    if (text.startsWith(':')) return onComment(text.slice(1).trimStart())
    const colon = text.indexOf(':')
    const field = colon < 0 ? text : text.slice(0, colon)
    let value = colon < 0 ? '' : text.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') type = value
    else if (field === 'data') data.push(value)
    else if (field === 'id' && !value.includes('\0')) lastEventId = value
    // `retry` and unknown fields are ignored: the reconnection policy is the command's.
  }

  return {
    push(text) {
      let chunk = text
      if (afterCr && chunk.startsWith('\n')) chunk = chunk.slice(1)
      afterCr = false
      pending += chunk
      let start = 0
      for (let i = 0; i < pending.length; i++) {
        const char = pending[i]
        if (char !== '\n' && char !== '\r') continue
        line(pending.slice(start, i))
        if (char === '\r') {
          if (i + 1 < pending.length) {
            if (pending[i + 1] === '\n') i++
          } else afterCr = true
        }
        start = i + 1
      }
      pending = pending.slice(start)
    },
  }
}
