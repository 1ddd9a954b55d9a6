/**
 * Thread scheduling through libc (sched(7)): a thread moves to SCHED_IDLE and back to nice 10 when the
 * process holds CAP_SYS_NICE; without it, leaving SCHED_IDLE is refused, which canLeaveBackground
 * foresees. Each case runs in a child process, so this one's threads keep their priority.
 */
import { expect, test } from 'bun:test'
import { join } from 'node:path'

const MODULE = JSON.stringify(join(import.meta.dir, '../../src/store/thread-priority.ts'))

/** Runs the steps in a child (optionally without CAP_SYS_NICE) and returns what it printed. */
function inChild(withoutSysNice: boolean): { canLeave: boolean; toBackground: boolean; inBackground: string; toYielding: boolean; afterwards: string } {
  const script = `
    import { canLeaveBackground, currentThreadId, setThreadPolicy } from ${MODULE}
    import { readFileSync } from 'node:fs'
    const scheduling = () => { const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' '); return fields[16] + '/' + fields[38] }
    const id = currentThreadId()
    const canLeave = canLeaveBackground()
    const toBackground = setThreadPolicy(id, 'background')
    const inBackground = scheduling()
    const toYielding = setThreadPolicy(id, 'yielding')
    console.log(JSON.stringify({ canLeave, toBackground, inBackground, toYielding, afterwards: scheduling() }))
  `
  const command = [process.execPath, '-e', script]
  const child = Bun.spawnSync(withoutSysNice ? ['setpriv', '--bounding-set=-sys_nice', '--inh-caps=-sys_nice', ...command] : command, { stderr: 'pipe' })
  expect(child.stderr.toString()).toBe('')
  return JSON.parse(child.stdout.toString())
}

test.if(process.platform === 'linux' && process.getuid?.() === 0)('with CAP_SYS_NICE a thread goes to SCHED_IDLE (policy 5) and back to SCHED_OTHER at nice 10', () => {
  expect(inChild(false)).toEqual({ canLeave: true, toBackground: true, inBackground: '10/5', toYielding: true, afterwards: '10/0' })
})

test.if(process.platform === 'linux' && process.getuid?.() === 0)('without it the kernel refuses to let a thread leave SCHED_IDLE, as canLeaveBackground says beforehand', () => {
  expect(inChild(true)).toEqual({ canLeave: false, toBackground: true, inBackground: '10/5', toYielding: false, afterwards: '10/5' })
})
