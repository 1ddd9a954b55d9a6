/** @module Small error answers from the proxy itself: HTML for browsers, JSON for everything else, never a stack trace. */

// Typed by their keys, so an answer with a status that has no title here cannot compile.
const TITLES = {
  400: 'Bad Request',
  404: 'Not Found',
  421: 'Misdirected Request',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
  508: 'Loop Detected',
} as const

const CODES: Record<keyof typeof TITLES, string> = {
  400: 'invalid_request',
  404: 'not_found',
  421: 'misdirected_request',
  429: 'too_many_requests',
  431: 'request_header_fields_too_large',
  502: 'bad_gateway',
  504: 'gateway_timeout',
  508: 'loop_detected',
}

export type ErrorStatus = keyof typeof TITLES

export interface ErrorPage {
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export function errorPage(status: ErrorStatus, detail: string, accept: string | null): ErrorPage {
  const title = TITLES[status]!
  const common = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }
  if (accept?.includes('text/html')) {
    const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status} ${title}</title></head><body><h1>${status} ${title}</h1><p>${escapeHtml(detail)}</p></body></html>\n`
    return { headers: { ...common, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'" }, body }
  }
  return { headers: { ...common, 'content-type': 'application/json' }, body: JSON.stringify({ error: CODES[status], error_description: detail }) }
}

export function errorResponse(status: ErrorStatus, detail: string, accept: string | null): Response {
  const page = errorPage(status, detail, accept)
  return new Response(page.body, { status, headers: page.headers })
}

/** The same answer as raw HTTP/1.1 bytes, for the relay; the connection closes after it. */
export function rawErrorResponse(status: ErrorStatus, detail: string, accept: string | null, requestId: string | null = null): Buffer {
  const page = errorPage(status, detail, accept)
  const body = Buffer.from(page.body)
  let head = `HTTP/1.1 ${status} ${TITLES[status]}\r\n${requestId === null ? '' : `x-request-id: ${requestId}\r\n`}`
  for (const name in page.headers) head += `${name}: ${page.headers[name]}\r\n`
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), body])
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
}
