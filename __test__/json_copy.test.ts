import { afterEach, describe, expect, it } from 'vitest'
import { copyParsed } from '../src/json_copy.js'

/** copyParsed(JSON.parse(text), text), checked to be a fresh copy equal to a second parse. */
function copyOf(text: string): unknown {
  const parsed = JSON.parse(text)
  const copy = copyParsed(parsed, text)
  expect(copy).toStrictEqual(JSON.parse(text))
  if (typeof parsed === 'object' && parsed !== null) expect(copy).not.toBe(parsed)
  return copy
}

describe('copyParsed', () => {
  afterEach(() => {
    delete (Object.prototype as any).polluted
  })

  it('copies primitives, arrays and nested objects, keeping key order', () => {
    for (const text of ['1', '"s"', 'null', 'true', '[]', '{}', '[1,[2,[3]],{"a":null}]']) copyOf(text)
    const copy = copyOf('{"b":1,"2":"two","a":{"z":[1,2],"y":"x"},"1":"one"}')
    expect(Object.keys(copy as object)).toEqual(['1', '2', 'b', 'a'])
    expect(Object.keys((copy as any).a)).toEqual(['z', 'y'])
  })

  it('keeps an own __proto__ key as a property, not a prototype', () => {
    const copy = copyOf('{"a":{"__proto__":{"admin":true}}}') as any
    expect(Object.getPrototypeOf(copy.a)).toBe(Object.prototype)
    expect(copy.a.admin).toBeUndefined()
    expect(Object.hasOwn(copy.a, '__proto__')).toBe(true)
  })

  it('does not copy enumerable properties added to Object.prototype', () => {
    ;(Object.prototype as any).polluted = 'yes'
    const copy = copyOf('{"a":1}') as object
    expect(Object.keys(copy)).toEqual(['a'])
  })

  it('shares nothing with the parse: nested objects and arrays are copies too', () => {
    const text = '{"a":{"b":[{"c":1}]},"d":[[2]]}'
    const parsed = JSON.parse(text)
    const copy = copyParsed(parsed, text) as any
    copy.a.b[0].c = 9
    copy.a.b.push(3)
    copy.d[0][0] = 9
    expect(parsed).toStrictEqual(JSON.parse(text))
  })

  it('does not copy an object-valued property added to Object.prototype either', () => {
    ;(Object.prototype as any).polluted = { deep: true }
    const copy = copyOf('{"a":{"b":1}}') as object
    expect(Object.keys(copy)).toEqual(['a'])
    expect(Object.hasOwn(copy, 'polluted')).toBe(false)
  })

  it('falls back to parsing again when nesting is too deep to copy recursively', () => {
    const depth = 200_000
    const text = '['.repeat(depth) + ']'.repeat(depth)
    const parsed = JSON.parse(text)
    const copy = copyParsed(parsed, text) as unknown[]
    // A boolean, not expect(copy): the matcher would walk the nesting recursively.
    expect(copy !== parsed).toBe(true)
    let level = 0
    for (let node: unknown[] = copy; node.length === 1; node = node[0] as unknown[]) level++
    expect(level).toBe(depth - 1)
  })
})
