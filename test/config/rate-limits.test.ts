/** RATE_LIMIT_*: RATE/UNIT,BURST or off; RATE_LIMIT_EXEMPT: CIDRs or none; the documented defaults. */
import { describe, expect, test } from 'bun:test'
import { loadConfig } from '../../src/config/index.ts'
import { problemsOf } from '../support/config-problems.ts'

describe('rate-limit settings', () => {
  test('the defaults: the authorization server 1/s burst 30 per address, the API 10/s burst 100 per address and per token, loopback exempt', () => {
    expect(loadConfig({}).rateLimits).toEqual({
      exempt: ['127.0.0.0/8', '::1'],
      oauth: { perSecond: 1, burst: 30 },
      api: { perSecond: 10, burst: 100 },
      apiAddress: { perSecond: 10, burst: 100 },
    })
  })

  test('RATE/UNIT,BURST in seconds, minutes or hours; off; any case and surrounding spaces', () => {
    const { rateLimits } = loadConfig({ RATE_LIMIT_OAUTH: '600/m,50', RATE_LIMIT_API: ' 36/H,5 ', RATE_LIMIT_API_ADDRESS: 'OFF' })
    expect(rateLimits.oauth).toEqual({ perSecond: 10, burst: 50 })
    expect(rateLimits.api).toEqual({ perSecond: 0.01, burst: 5 })
    expect(rateLimits.apiAddress).toBeNull()
    expect(loadConfig({ RATE_LIMIT_OAUTH: '0.5/s,1' }).rateLimits.oauth).toEqual({ perSecond: 0.5, burst: 1 })
  })

  test('RATE_LIMIT_EXEMPT: a CIDR list, or none (an empty value means the default, as for every setting)', () => {
    expect(loadConfig({ RATE_LIMIT_EXEMPT: '10.0.0.0/8, 2001:db8::/32' }).rateLimits.exempt).toEqual(['10.0.0.0/8', '2001:db8::/32'])
    expect(loadConfig({ RATE_LIMIT_EXEMPT: 'none' }).rateLimits.exempt).toEqual([])
    expect(loadConfig({ RATE_LIMIT_EXEMPT: '' }).rateLimits.exempt).toEqual(['127.0.0.0/8', '::1'])
  })

  test('a bad value is one line naming the variable and the form it expects', () => {
    const hint = 'expected RATE/UNIT,BURST such as 10/s,100 or 600/m,50 (unit s, m or h), or off'
    for (const bad of ['10', '10/s', '10,100', '10/d,5', '-1/s,5', '10/s,', 'x/s,1']) expect(problemsOf({ RATE_LIMIT_OAUTH: bad })).toEqual([`RATE_LIMIT_OAUTH: ${hint}, got ${JSON.stringify(bad)}`])
    expect(problemsOf({ RATE_LIMIT_API: '0/s,5' })).toEqual([`RATE_LIMIT_API: ${hint}; the rate and the burst must be above 0, got "0/s,5"`])
    expect(problemsOf({ RATE_LIMIT_API_ADDRESS: '5/s,0' })).toEqual([`RATE_LIMIT_API_ADDRESS: ${hint}; the rate and the burst must be above 0, got "5/s,0"`])
    expect(problemsOf({ RATE_LIMIT_EXEMPT: 'everyone' })).toEqual(['RATE_LIMIT_EXEMPT: expected CIDRs separated by commas, e.g. 10.0.0.0/8,::1, got "everyone"'])
  })
})
