/**
 * @module The client hand-off (DESIGN §3.2): the dispatcher records who the client is under its loopback
 * connection to the instance; the instance finds it with server.requestIP(). This carries what a PROXY v1
 * header would, without a third hop per connection. The key includes the instance's port because Linux
 * may reuse one source port for connections to different destination ports.
 */
import type { ClientInfo } from '../proxy/index.ts'

export interface Handoff {
  record(loopbackPort: number, instancePort: number, client: ClientInfo): void
  forget(loopbackPort: number, instancePort: number): void
  /** The client behind a connection from the dispatcher, or undefined for a direct connection. */
  find(loopbackPort: number, instancePort: number): ClientInfo | undefined
  size(): number
}

const keyOf = (loopbackPort: number, instancePort: number) => loopbackPort * 65_536 + instancePort

export function createHandoff(): Handoff {
  const clients = new Map<number, ClientInfo>()
  return {
    record: (loopbackPort, instancePort, client) => void clients.set(keyOf(loopbackPort, instancePort), client),
    forget: (loopbackPort, instancePort) => void clients.delete(keyOf(loopbackPort, instancePort)),
    find: (loopbackPort, instancePort) => clients.get(keyOf(loopbackPort, instancePort)),
    size: () => clients.size,
  }
}
