/** @module Small error answers from the proxy itself: HTML for browsers, JSON for everything else, never a stack trace. */

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  421: 'Misdirected Request',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
}

const CODES: Record<number, string> = { 400: 'invalid_request', 404: 'not_found', 421: 'misdirected_request', 502: 'bad_gateway', 504: 'gateway_timeout' }

export function errorResponse(status: keyof typeof TITLES, detail: string, accept: string | null): Response {
  const title = TITLES[status]!
  const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }
  if (accept?.includes('text/html')) {
    const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status} ${title}</title></head><body><h1>${status} ${title}</h1><p>${escapeHtml(detail)}</p></body></html>\n`
    return new Response(page, { status, headers: { ...headers, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'" } })
  }
  return Response.json({ error: CODES[status], error_description: detail }, { status, headers })
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
}
