/** @module The API command groups (proxy, route, service, oauth, system, …): main.ts mounts each key as a subcommand. */
import { systemCommand } from './system.ts'

export const commandGroups = {
  system: systemCommand,
}
