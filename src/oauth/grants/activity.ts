/** @module The activity-log fields of a grant: who, which client, which resource and scopes; never a token or hash. */
import type { OAuthActivity } from '../activity.ts'
import type { AuthorizationGrant } from './model.ts'

export function grantActivity(grant: Pick<AuthorizationGrant, 'user' | 'clientId' | 'resource' | 'scopes'>): Omit<OAuthActivity, 'type'> {
  return { user: grant.user.username, user_id: grant.user.sub, client_id: grant.clientId, resource: grant.resource, scopes: [...grant.scopes] }
}
