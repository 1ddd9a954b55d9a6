/** @module The API command groups (proxy, route, cert, service, oauth, system, log, …): main.ts mounts each key as a subcommand. */
import { certCommand } from './cert.ts'
import { healthCommand } from './health.ts'
import { logCommand } from './log.ts'
import { oauthCommand } from './oauth.ts'
import { proxyCommand } from './proxy.ts'
import { routeCommand } from './route.ts'
import { serviceCommand } from './service.ts'
import { systemCommand } from './system.ts'

export const commandGroups = {
  proxy: proxyCommand,
  route: routeCommand,
  cert: certCommand,
  service: serviceCommand,
  oauth: oauthCommand,
  system: systemCommand,
  log: logCommand,
  health: healthCommand,
}
