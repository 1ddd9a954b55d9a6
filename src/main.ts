#!/usr/bin/env bun
/**
 * @module Entry point: runs the root command (src/cli/root.ts). `serve` is the default; every other group
 * is CLI. For `serve`, stop signals are held from the first line (stop-latch.ts): loading the rest takes
 * long enough that a supervisor's SIGTERM could otherwise kill the process by default action.
 */
import { latchStopSignals } from './stop-latch.ts'

const argv = process.argv.slice(2)
// `serve` is the default: no command, or only flags, means serve.
const rawArgs = argv.length === 0 || (argv[0]!.startsWith('-') && !['--help', '-h', '--version', '-v'].includes(argv[0]!)) ? ['serve', ...argv] : argv
if (rawArgs[0] === 'serve' && !rawArgs.includes('--help') && !rawArgs.includes('-h')) latchStopSignals()
const { runMain } = await import('./cli/index.ts')
await runMain(rawArgs)
