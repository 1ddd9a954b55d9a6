/**
 * @module Debian's Chromium driven by playwright-core, launched as test/e2e/redirect-mode-chromium.test.ts
 * does: headless, no sandbox (root in a VM), nothing that talks to the network on its own.
 */
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

/** `extraArgs`: e.g. `--host-resolver-rules=MAP app.localhost 127.0.0.1`. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  })
}
