/**
 * @module Carries out an import plan through the domain services, so every change is stored and
 * announced as if made through the API, and every node applies it. The order keeps each write valid
 * on its own: services before what points at them, proxies before routes that target them, route
 * deletions before creations (an equal route may take a pruned one's place), and prune's deletions of
 * proxies and services after the routes that named them are gone. Certificates last: request() only
 * stores the definition and orders in the background, so a CA's answer never holds up the import.
 */
import type { ConfigDeps } from './config-document.ts'
import type { ImportPlan } from './config-plan.ts'

export async function applyImportPlan(deps: ConfigDeps, plan: ImportPlan, actor: string): Promise<void> {
  for (const { value } of plan.services.create) await deps.services.create(value, actor)
  for (const { value } of plan.services.update) await deps.services.update(value.service_name, { target_url: value.target_url, description: value.description })

  for (const { value } of plan.proxies.create) {
    await deps.targets.create(value.target, actor)
    if (value.gitHubApp) await deps.targets.setGitHubApp(value.target.proxy_hostname, value.gitHubApp)
  }
  for (const { value } of plan.proxies.update) {
    const { proxy_hostname: hostname, ...settings } = value.target
    if (value.settingsChanged) await deps.targets.update(hostname, settings)
    if (value.gitHubApp !== undefined) await deps.targets.setGitHubApp(hostname, value.gitHubApp)
  }

  for (const routeId of plan.routes.delete) await deps.routes.remove(routeId)
  for (const { value } of plan.routes.update) {
    const { route_id: routeId, ...fields } = value
    await deps.routes.update(routeId, fields)
  }
  // In document order: equal priorities are matched in creation order, which is the document's.
  for (const { value } of plan.routes.create) await deps.routes.importRoute(value, actor)

  for (const hostname of plan.proxies.delete) await deps.targets.remove(hostname)
  for (const name of plan.services.delete) await deps.services.remove(name)

  for (const { value } of [...plan.clients.create, ...plan.clients.update]) await deps.clients.importClient(value)
  for (const clientId of plan.clients.delete) {
    await deps.grants.revokeClientFamilies(clientId)
    await deps.clients.delete(clientId)
  }

  for (const { value } of [...plan.certificates.create, ...plan.certificates.update]) await deps.certificates.request(value.request, actor)
  for (const name of plan.certificates.delete) await deps.certificates.remove(name)
}
