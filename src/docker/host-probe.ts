/**
 * @module Whether a host port can be bound right now, tried the only reliable way: binding it (exclusively)
 * and letting go at once. Something else on the host (another program, a container another deployment
 * published) may hold a port no claim of ours knows about.
 */
import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'

export type HostPortState = 'free' | 'in_use' | 'not_local'

/**
 * 'in_use' when something listens there; 'not_local' when the address is not one of this host's
 * (EADDRNOTAVAIL: the engine could not publish on it either). Only meaningful when the engine runs on
 * this host (the local socket); a remote DOCKER_HOST's ports are the claims' alone.
 */
export function probeHostPort(bindAddress: string, port: number, protocol: 'tcp' | 'udp'): Promise<HostPortState> {
  const stateOf = (error: NodeJS.ErrnoException): HostPortState => (error.code === 'EADDRNOTAVAIL' ? 'not_local' : 'in_use')
  return new Promise((resolve) => {
    if (protocol === 'tcp') {
      const server = createServer()
      server.once('error', (error) => resolve(stateOf(error)))
      server.listen({ host: bindAddress, port, exclusive: true }, () => server.close(() => resolve('free')))
      return
    }
    const socket = createSocket(bindAddress.includes(':') ? 'udp6' : 'udp4')
    socket.once('error', (error) => {
      resolve(stateOf(error))
      try {
        socket.close()
      } catch {
        // never bound: nothing to close
      }
    })
    socket.bind({ address: bindAddress, port, exclusive: true }, () => socket.close(() => resolve('free')))
  })
}
