/**
 * @module The baseline: nginx with one worker (or `workers`), proxy_pass over HTTP/1.1 to the backend with an upstream
 * keep-alive pool of 64, on an HTTP and an HTTPS (self-signed ECDSA P-256, like ours) loopback port.
 * Everything it writes stays in its own temp directory.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, statusThrough, waitFor } from './net.ts'

export interface Nginx {
  readonly httpPort: number
  readonly httpsPort: number
  readonly pid: number
  stop(): Promise<void>
}

/** Debian installs it in /usr/sbin, which is not on every user's PATH. */
export const NGINX = Bun.which('nginx') ?? '/usr/sbin/nginx'

export async function startNginx(dir: string, backendPort: number, workers = 1): Promise<Nginx> {
  mkdirSync(join(dir, 'temp'), { recursive: true })
  await createCertificate(dir)
  const httpPort = await freePort()
  const httpsPort = await freePort()
  const configPath = join(dir, 'nginx.conf')
  writeFileSync(configPath, nginxConfig(dir, backendPort, httpPort, httpsPort, workers))
  const proc = Bun.spawn([NGINX, '-p', dir, '-e', join(dir, 'error.log'), '-c', configPath], { stdout: 'ignore', stderr: 'pipe' })
  let exited = false
  void proc.exited.then(() => (exited = true))
  await waitFor(async () => {
    if (exited) throw new Error(`nginx exited ${proc.exitCode}: ${await new Response(proc.stderr).text()}`)
    return (await statusThrough(httpPort, 'bench.test')) === 200
  }, { what: 'nginx' })
  return {
    httpPort,
    httpsPort,
    pid: proc.pid,
    async stop() {
      // SIGQUIT: graceful shutdown of the master and its workers.
      proc.kill('SIGQUIT')
      await proc.exited
    },
  }
}

async function createCertificate(dir: string): Promise<void> {
  const args = ['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=bench.test']
  const proc = Bun.spawn([...args, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdout: 'ignore', stderr: 'pipe' })
  if ((await proc.exited) !== 0) throw new Error(`openssl failed: ${await new Response(proc.stderr).text()}`)
}

function nginxConfig(dir: string, backendPort: number, httpPort: number, httpsPort: number, workers: number): string {
  const temp = join(dir, 'temp')
  // keepalive_requests is raised so neither side's connections are recycled every 1,000 requests:
  // ours never recycles them, and a TLS handshake per recycle would handicap nginx.
  const proxy = `
      location / {
        proxy_pass http://backend;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
      }`
  return `daemon off;
master_process on;
worker_processes ${workers};
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 64;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:${httpPort};
    ${proxy}
  }
  server {
    listen 127.0.0.1:${httpsPort} ssl;
    ssl_certificate ${join(dir, 'cert.pem')};
    ssl_certificate_key ${join(dir, 'key.pem')};
    ${proxy}
  }
}
`
}
