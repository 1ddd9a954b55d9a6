/** @module The web UI's entry: the stylesheet, then the app into #root. */
import { render } from 'hono/jsx/dom'
import { App } from './app.tsx'
import { loadSession } from './session.tsx'
import 'uplot/dist/uPlot.min.css'
import './styles.css'
import './icon.svg'

// Asked at once: the first thing the page needs is whether someone is signed in.
render(<App firstSession={loadSession()} />, document.getElementById('root')!)
