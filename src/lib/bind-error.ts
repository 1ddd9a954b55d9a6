/** @module Turns a failed listen into one line that says which setting, why, and how to fix it. */

export class StartupError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StartupError'
  }
}

export function describeBindError(setting: string, host: string, port: number, error: unknown): StartupError {
  const code = (error as { code?: string } | null)?.code ?? ''
  const text = String((error as Error)?.message ?? error)
  const where = `cannot bind ${setting} ${port} on ${host}`
  if (code === 'EACCES' || /permission denied|EACCES/i.test(text)) {
    return new StartupError(
      `${where}: permission denied (ports below 1024 need privileges); run as root, grant CAP_NET_BIND_SERVICE ` +
        `(setcap cap_net_bind_service=+ep <bun or the binary>), or set ${setting} to a port above 1023`,
    )
  }
  if (code === 'EADDRINUSE' || /in use|EADDRINUSE/i.test(text)) {
    return new StartupError(`${where}: address already in use; stop the other process or set ${setting} to a free port`)
  }
  if (code === 'EADDRNOTAVAIL' || /not available|EADDRNOTAVAIL/i.test(text)) {
    return new StartupError(`${where}: that address does not belong to this machine; fix the host setting`)
  }
  return new StartupError(`${where}: ${text}`)
}
