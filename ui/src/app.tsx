/** @module The page's frame: sign-in when there is no session, else the navigation and the page the path names. */
import { useEffect, useState } from 'hono/jsx/dom'
import { call, useCsrfToken, whenSignedOut } from './api.ts'
import { ErrorAlert } from './components/form.tsx'
import { Loading } from './components/status.tsx'
import { pageFor, NAVIGATION } from './pages/index.tsx'
import { Link, useLocation } from './router.tsx'
import { loadSession, SessionContext, type Session } from './session.tsx'

function SignIn(props: { expired: boolean }) {
  const back = location.pathname.startsWith('/ui/') ? location.pathname + location.search : '/ui/'
  return (
    <main id="content" class="signin">
      <h1>oauth-https-proxy</h1>
      {props.expired && <p role="status">Your session has ended. Sign in again to go on.</p>}
      <p>Sign in with your GitHub account. What you can see and change depends on the scopes this server grants you.</p>
      {!window.isSecureContext && (
        <p class="alert" role="alert">
          This address is neither https nor a loopback address, so the browser will not keep the session cookie. Open the UI at PUBLIC_URL (https), or at http://localhost on the host itself.
        </p>
      )}
      <p>
        <a class="button primary" href={`/ui/auth/login?return=${encodeURIComponent(back)}`}>
          Sign in
        </a>
      </p>
    </main>
  )
}

function Shell(props: { session: Session; onSignedOut: () => void }) {
  const location = useLocation()
  const path = location.split('?')[0]!
  const [failure, setFailure] = useState<unknown>(null)
  const signOut = async () => {
    try {
      await call('POST', '/ui/auth/logout')
      props.onSignedOut()
    } catch (error) {
      setFailure(error)
    }
  }
  const isAdmin = props.session.scopes.includes('admin')
  // When the signed-in page first stands, for whoever measures (the tests hold it to the 1 s).
  useEffect(() => void performance.mark('ohp-ui-interactive'), [])
  return (
    <SessionContext.Provider value={props.session}>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <Link href="/ui/" class="brand">
          oauth-https-proxy
        </Link>
        <span class="who">
          {props.session.username} ({isAdmin ? 'admin' : 'read only'})
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <nav class="main" aria-label="Sections">
        <ul>
          {NAVIGATION.map(([href, text]) => (
            <li>
              <Link href={href} aria-current={(href === '/ui/' ? path === '/ui/' || path === '/ui' : path.startsWith(href)) ? 'page' : undefined}>
                {text}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="content">
        <ErrorAlert error={failure} />
        {pageFor(path)}
      </main>
    </SessionContext.Provider>
  )
}

/** `firstSession`: the session request main.tsx sent before the first render, so the page does not wait for it twice. */
export function App(props: { firstSession: Promise<Session | null> }) {
  const [state, setState] = useState<{ session: Session | null; loaded: boolean; expired: boolean; error: unknown }>({ session: null, loaded: false, expired: false, error: null })
  const show = (loading: Promise<Session | null>, expired: boolean) =>
    loading.then(
      (session) => {
        if (session) useCsrfToken(session.csrfToken)
        setState({ session, loaded: true, expired: expired && session === null, error: null })
      },
      (error) => setState({ session: null, loaded: true, expired: false, error }),
    )
  useEffect(() => {
    whenSignedOut(() => show(loadSession(), true))
    show(props.firstSession, false)
  }, [])
  if (!state.loaded) return <Loading what="your session" />
  if (state.error) return <ErrorAlert error={state.error} />
  if (!state.session) return <SignIn expired={state.expired} />
  return <Shell session={state.session} onSignedOut={() => setState({ session: null, loaded: true, expired: false, error: null })} />
}
