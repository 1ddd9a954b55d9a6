#!/usr/bin/env bun
// The package's executable for `bunx oauth-https-proxy`: the TypeScript entry runs under Bun as is.
await import('../src/main.ts')
