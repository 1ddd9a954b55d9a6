/**
 * @module Lowers the priority of the calling thread (Linux: setpriority(2) on its thread id), for
 * background work that must not take a core from requests being served. On a busy host the request
 * log's writer thread ran its SQLite bursts (some milliseconds every 250 ms) at the same priority as
 * the thread serving requests, and the requests waiting behind them showed in p99. At nice 10 the
 * scheduler still gives it about a tenth of a contended core (CFS weights 110 : 1024), many times what
 * writing 15,000 records a second takes, so it keeps up, and only yields first.
 * Anywhere the call is not available (another libc, another OS) the thread keeps its priority.
 */
import { dlopen, FFIType } from 'bun:ffi'

const PRIO_PROCESS = 0

/** Sets the calling thread's nice value; answers whether it could. */
export function lowerThreadPriority(nice: number): boolean {
  if (process.platform !== 'linux') return false
  try {
    const libc = dlopen('libc.so.6', {
      gettid: { args: [], returns: FFIType.i32 },
      setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
    })
    try {
      return libc.symbols.setpriority(PRIO_PROCESS, libc.symbols.gettid(), nice) === 0
    } finally {
      libc.close()
    }
  } catch {
    return false
  }
}
