/**
 * @module Seals GitHub's device code under our own (lib/seal.ts): the key is derived from our
 * device_code, which the store never sees, and bound to the record's id. Whoever reads the store
 * cannot poll GitHub in a user's name; only the client holding our device_code can make us do it.
 */
import * as v from 'valibot'
import { openWithSecret, sealWithSecret } from '../../lib/index.ts'
import type { SealedSchema } from './model.ts'

type Sealed = v.InferOutput<typeof SealedSchema>

/** HKDF info; unchanged since the first device codes were stored, so those still open. */
const PURPOSE = 'oauth-https-proxy github device code v1'

export const sealGitHubCode = (deviceCode: string, id: string, githubCode: string): Promise<Sealed> => sealWithSecret(deviceCode, id, PURPOSE, githubCode)

/** GitHub's code, or null when this device code's key does not open it (GCM authenticates). */
export const openGitHubCode = (deviceCode: string, id: string, sealed: Sealed): Promise<string | null> => openWithSecret(deviceCode, id, PURPOSE, sealed)
