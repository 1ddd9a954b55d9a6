/** @module The dashboard: health of the store and of each node, traffic, certificates that need care, recent errors. */
import { PageTitle } from '../router.tsx'

export function DashboardPage() {
  return <PageTitle>Dashboard</PageTitle>
}
