/** @module Who is signed in (GET /ui/auth/session) and what they may do: an admin writes, a user reads. */
import { createContext, useContext } from 'hono/jsx/dom'

export interface Session {
  readonly username: string
  readonly scopes: readonly string[]
  readonly csrfToken: string
}

export interface SessionAnswer {
  readonly signed_in: boolean
  readonly username?: string
  readonly scopes?: string[]
  readonly csrf_token?: string
}

export async function loadSession(): Promise<Session | null> {
  const response = await fetch('/ui/auth/session', { credentials: 'same-origin', headers: { accept: 'application/json' } })
  if (!response.ok) throw new Error(`the session could not be read (${response.status})`)
  const answer = (await response.json()) as SessionAnswer
  return answer.signed_in ? { username: answer.username!, scopes: answer.scopes ?? [], csrfToken: answer.csrf_token! } : null
}

export const SessionContext = createContext<Session>({ username: '', scopes: [], csrfToken: '' })

/** Whether the signed-in user may change things; write controls are not rendered otherwise. */
export function useCanWrite(): boolean {
  return useContext(SessionContext).scopes.includes('admin')
}
