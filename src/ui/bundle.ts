/**
 * @module The web UI's files: the copy `npm run build` embedded in the executable (`--asset dist/ui`,
 * named "ui/..."), or, when running from source, the same bundle built from ui/ by the same function,
 * once, when it is first asked for.
 */
import type { UiFile } from '../../ui/build.ts'

export type { UiFile }

const EMBEDDED_PREFIX = 'ui/'

async function embeddedFiles(): Promise<UiFile[]> {
  const found = Bun.embeddedFiles.filter((file) => (file as Blob & { name?: string }).name?.startsWith(EMBEDDED_PREFIX))
  return Promise.all(
    found.map(async (file) => ({
      path: (file as Blob & { name: string }).name.slice(EMBEDDED_PREFIX.length),
      type: file.type,
      bytes: new Uint8Array(await file.arrayBuffer()),
    })),
  )
}

export async function loadUiFiles(): Promise<UiFile[]> {
  const embedded = await embeddedFiles()
  if (embedded.length > 0) return embedded
  const { buildUi } = await import('../../ui/build.ts')
  return buildUi()
}
