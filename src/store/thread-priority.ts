/**
 * @module Scheduling of background threads (Linux: sched_setscheduler(2) and setpriority(2) on a thread
 * id), for work that must not take a core from requests being served.
 *
 * The request log's writer thread runs its SQLite bursts (some milliseconds, a few times a second) as
 * SCHED_IDLE: it gets only the CPU time nothing else wants, a thread that wakes takes the core from it
 * at once, and the kernel counts a core running it as free when it places a waking thread. At nice 10
 * (CFS weights 110 : 1024) it still held a core for whole time slices, the threads waking behind it
 * (ours, the client's, the backend's) crowded onto the other core, and the log's p99 cost was about 1.4×
 * where SCHED_IDLE measured 1.2-1.3× in the same minutes (bench/README.md, "Third step: what the kernel saw").
 *
 * On a machine with no idle time at all a SCHED_IDLE thread barely runs: its owner watches for that
 * and sets it to `yielding` (nice 10), which always gets a tenth of a contended core, many times what
 * the writer needs (log-append-thread.ts).
 * Anywhere the calls are not available (another libc, another OS) the thread keeps its priority.
 */
import { dlopen, FFIType } from 'bun:ffi'
import { readFileSync } from 'node:fs'

/** `background`: SCHED_IDLE; `yielding`: SCHED_OTHER at nice 10. */
export type BackgroundPolicy = 'background' | 'yielding'

const PRIO_PROCESS = 0
const SCHED_OTHER = 0
const SCHED_IDLE = 5
const YIELDING_NICE = 10
const RLIMIT_NICE = 13
/** CAP_SYS_NICE's bit in /proc's CapEff mask (capability.h). */
const CAP_SYS_NICE = 23n

type Libc = ReturnType<typeof openLibc>

const openLibc = () =>
  dlopen('libc.so.6', {
    gettid: { args: [], returns: FFIType.i32 },
    setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
    sched_setscheduler: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    getrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  }).symbols

let libc: Libc | null | undefined

/** The C library's calls, opened once; null where there are none to open. */
function loadLibc(): Libc | null {
  if (libc !== undefined) return libc
  try {
    libc = process.platform === 'linux' ? openLibc() : null
  } catch {
    libc = null
  }
  return libc
}

/** The calling thread's kernel id, or null where there is none to give. */
export function currentThreadId(): number | null {
  return loadLibc()?.gettid() ?? null
}

/**
 * Whether a thread set to `background` may later be set to `yielding`. Leaving SCHED_IDLE takes
 * CAP_SYS_NICE or an RLIMIT_NICE that allows nice 10 (sched(7)); a container without SYS_NICE has
 * neither, and there the writer stays at `yielding` from the start, where it cannot starve.
 */
export function canLeaveBackground(): boolean {
  const calls = loadLibc()
  if (!calls) return false
  try {
    const capabilities = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/thread-self/status', 'utf8'))
    if (capabilities && (BigInt(`0x${capabilities[1]}`) >> CAP_SYS_NICE) & 1n) return true
    // struct rlimit { rlim_t rlim_cur, rlim_max }; the nice value a thread may reach is 20 - rlim_cur.
    const limit = new BigUint64Array(2)
    return calls.getrlimit(RLIMIT_NICE, limit) === 0 && limit[0]! >= BigInt(20 - YIELDING_NICE)
  } catch {
    return false
  }
}

/** Sets a thread of this process (by kernel id) to a policy; answers whether it could. */
export function setThreadPolicy(threadId: number, policy: BackgroundPolicy): boolean {
  const calls = loadLibc()
  if (!calls) return false
  // struct sched_param { int sched_priority }: 0 for both policies.
  const param = new Int32Array(1)
  try {
    // Nice 10 first: leaving SCHED_IDLE later is checked against the nice value the thread has then.
    if (policy === 'background') return calls.setpriority(PRIO_PROCESS, threadId, YIELDING_NICE) === 0 && calls.sched_setscheduler(threadId, SCHED_IDLE, param) === 0
    return calls.sched_setscheduler(threadId, SCHED_OTHER, param) === 0 && calls.setpriority(PRIO_PROCESS, threadId, YIELDING_NICE) === 0
  } catch {
    return false
  }
}
