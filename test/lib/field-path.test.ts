/**
 * Every 400 spells a field inside a body one way (lib/field-path.ts): indexes in brackets, names after
 * a dot, as the Docker model and config import write them by hand.
 */
import { describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { fieldPath } from '../../src/lib/index.ts'

const pathOf = (schema: v.GenericSchema, input: unknown) => {
  const result = v.safeParse(schema, input)
  if (result.success) throw new Error('expected the input to be refused')
  return fieldPath(result.issues[0].path)
}

describe('fieldPath', () => {
  test('an index in an array of objects: port_configs[0].host_port', () => {
    const schema = v.object({ port_configs: v.array(v.object({ host_port: v.number() })) })
    expect(pathOf(schema, { port_configs: [{ host_port: 'x' }] })).toBe('port_configs[0].host_port')
  })

  test('nested objects and an index last: auth.required_scopes[1]', () => {
    const schema = v.object({ auth: v.object({ required_scopes: v.array(v.picklist(['read', 'write'])) }) })
    expect(pathOf(schema, { auth: { required_scopes: ['read', 'root'] } })).toBe('auth.required_scopes[1]')
  })

  test('a base goes first, and an issue on the whole input is the base alone', () => {
    expect(fieldPath([{ key: 'domains' }, { key: 2 }], 'proxies[3]')).toBe('proxies[3].domains[2]')
    expect(fieldPath(undefined, 'proxies[3]')).toBe('proxies[3]')
    expect(fieldPath(undefined)).toBe('')
  })
})
