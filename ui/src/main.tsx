/** @module The web UI's entry: the stylesheet, then the app into #root. */
import { render } from 'hono/jsx/dom'
import { App } from './app.tsx'
import 'uplot/dist/uPlot.min.css'
import './styles.css'
import './icon.svg'

render(<App />, document.getElementById('root')!)
