/** A container's stdout and stderr, demultiplexed into lines in order: the frame reader, reading a log, and following one live. */
import { beforeAll, describe, expect, test } from 'bun:test'
import type Dockerode from 'dockerode'
import { createLogDemuxer, followLogs, readLogs, type ServiceLogLine } from '../../src/docker/index.ts'
import { BUSYBOX_IMAGE, docker } from '../support/docker.ts'
import { waitFor } from '../support/ports.ts'
import { engineTestFile } from './service-fixture.ts'

const { engine, labels } = engineTestFile('docker-logs')
const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,9}Z$/

async function runContainer(script: string): Promise<Dockerode.Container> {
  const container = await engine.docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ['sh', '-c', script], Labels: labels })
  await container.start()
  return container
}

/** One engine frame: stream type, three zero bytes, the payload length (big-endian), the payload. */
function frame(stream: 1 | 2 | 0, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload
  const header = Buffer.alloc(8)
  header[0] = stream
  header.writeUInt32BE(body.length, 4)
  return Buffer.concat([header, body])
}

describe('createLogDemuxer', () => {
  const t1 = '2026-01-02T03:04:05.123456789Z'
  const t2 = '2026-01-02T03:04:06.000000001Z'
  const bytes = Buffer.concat([frame(1, `${t1} out one\n`), frame(2, `${t1} err one\n`), frame(0, 'stdin is never a log\n'), frame(1, `${t2} out two\n`)])
  const expected: ServiceLogLine[] = [
    { stream: 'stdout', time: t1, text: 'out one' },
    { stream: 'stderr', time: t1, text: 'err one' },
    { stream: 'stdout', time: t2, text: 'out two' },
  ]

  test('frames of both streams, in order, with the engine time', () => {
    const demuxer = createLogDemuxer()
    expect([...demuxer.push(bytes), ...demuxer.end()]).toEqual(expected)
  })

  test('the same frames cut at every possible place, headers included', () => {
    for (let cut = 1; cut < bytes.length; cut++) {
      const demuxer = createLogDemuxer()
      expect([...demuxer.push(bytes.subarray(0, cut)), ...demuxer.push(bytes.subarray(cut)), ...demuxer.end()]).toEqual(expected)
    }
    const demuxer = createLogDemuxer()
    const oneByteAtATime = [...bytes].flatMap((byte) => demuxer.push(Uint8Array.of(byte)))
    expect([...oneByteAtATime, ...demuxer.end()]).toEqual(expected)
  })

  test('a long line the logging driver cut into parts is one line, with its first part time, a character cut between parts kept whole', () => {
    const euro = Buffer.from('€') // three bytes, cut after the first
    const demuxer = createLogDemuxer()
    const lines = [
      ...demuxer.push(frame(1, Buffer.concat([Buffer.from(`${t1} start `), euro.subarray(0, 1)]))),
      ...demuxer.push(frame(2, `${t1} between\n`)),
      ...demuxer.push(frame(1, Buffer.concat([Buffer.from(`${t2} `), euro.subarray(1), Buffer.from(' end\n')]))),
    ]
    expect(lines).toEqual([
      { stream: 'stderr', time: t1, text: 'between' },
      { stream: 'stdout', time: t1, text: 'start € end' },
    ])
  })

  test('a last line without its newline comes out at the end', () => {
    const demuxer = createLogDemuxer()
    expect(demuxer.push(frame(2, `${t1} no newline`))).toEqual([])
    expect(demuxer.end()).toEqual([{ stream: 'stderr', time: t1, text: 'no newline' }])
  })
})

describe('readLogs', () => {
  let container: Dockerode.Container
  let lines: ServiceLogLine[]

  beforeAll(async () => {
    // The pauses make the order certain: the engine reads the two pipes independently.
    container = await runContainer('for i in 1 2 3; do echo "out $i"; sleep 0.1; echo "err $i" >&2; sleep 0.1; done')
    await waitFor(async () => !(await container.inspect()).State.Running, { timeoutMs: 20_000, intervalMs: 100, what: 'the logging container to finish' })
    lines = await readLogs(container)
  }, 30_000)

  test('both streams, in the order they were written, each line with its engine time', () => {
    expect(lines.map(({ stream, text }) => [stream, text])).toEqual([
      ['stdout', 'out 1'],
      ['stderr', 'err 1'],
      ['stdout', 'out 2'],
      ['stderr', 'err 2'],
      ['stdout', 'out 3'],
      ['stderr', 'err 3'],
    ])
    for (const line of lines) expect(line.time).toMatch(RFC3339_NANO)
    expect(lines.map((line) => line.time)).toEqual(lines.map((line) => line.time).sort())
  })

  test('tail: the last lines only', async () => {
    expect((await readLogs(container, { tail: 2 })).map((line) => line.text)).toEqual(['out 3', 'err 3'])
  })

  test('since: the lines written from that time on', async () => {
    const since = Date.parse(lines[3]!.time) / 1000 // millisecond precision: err 2 was written at or after it
    expect((await readLogs(container, { since })).map((line) => line.text)).toEqual(['err 2', 'out 3', 'err 3'])
  })

  test('a container that is gone is not_found', async () => {
    await expect(readLogs(engine.docker.getContainer('ohp-test-no-such-container'))).rejects.toMatchObject({ kind: 'not_found' })
  })
})

// As in readLogs, lines of the two streams are written with pauses between them: the engine reads the two
// pipes independently, so lines written back to back may be stamped in either order.
describe('followLogs', () => {
  test('delivers a new line within 1 s of the engine writing it, on either stream; ends when aborted', async () => {
    const container = await runContainer('echo history; while true; do if [ -e /tmp/go ]; then rm /tmp/go; echo "fresh $(date +%s)"; sleep 0.1; echo "fresh err" >&2; fi; sleep 0.05; done')
    const controller = new AbortController()
    const received: { line: ServiceLogLine; atMs: number }[] = []
    const following = (async () => {
      for await (const line of followLogs(container, { tail: 0, signal: controller.signal })) received.push({ line, atMs: Date.now() })
    })()
    await Bun.sleep(300) // the follow request is open (lines written before it would count as history, tail 0 leaves them out)
    await docker('exec', container.id, 'touch', '/tmp/go')
    await waitFor(() => received.length >= 2, { timeoutMs: 10_000, intervalMs: 20, what: 'the fresh lines' })
    expect(received.map(({ line }) => [line.stream, line.text.replace(/\d+$/, 'N')])).toEqual([
      ['stdout', 'fresh N'],
      ['stderr', 'fresh err'],
    ])
    for (const { line, atMs } of received) expect(atMs - Date.parse(line.time)).toBeLessThan(1_000)
    controller.abort()
    await following // ends, rather than hanging or throwing
  }, 30_000)

  test('ends by itself when the container stops, with the tail first', async () => {
    const container = await runContainer('echo one; sleep 0.1; echo two >&2; sleep 1; echo three')
    const lines: string[] = []
    for await (const line of followLogs(container, {})) lines.push(`${line.stream}:${line.text}`)
    expect(lines).toEqual(['stdout:one', 'stderr:two', 'stdout:three'])
  }, 30_000)

  test('an already aborted signal yields nothing', async () => {
    const controller = new AbortController()
    controller.abort()
    const lines: ServiceLogLine[] = []
    for await (const line of followLogs(engine.docker.getContainer('ohp-test-no-such-container'), { signal: controller.signal })) lines.push(line)
    expect(lines).toEqual([])
  })
})
