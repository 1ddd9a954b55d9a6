/** @module The web UI, server side: its files at /ui/ and its sign-in, whose session cookie the API accepts. */
export { mountUiAssets, UI_CONTENT_SECURITY_POLICY } from './assets.ts'
export { loadUiFiles, type UiFile } from './bundle.ts'
export { createUiSession, csrfTokenOf, CSRF_HEADER, UI_BROWSER_CLIENT, UI_LOGIN_COOKIE, UI_SESSION_COOKIE, type UiSession, type UiSessionDeps } from './session.ts'
