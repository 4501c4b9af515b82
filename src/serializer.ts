import { SerializationError } from './errors.js'

/** Turns values into text for the tiers that keep bytes, and back. */
export interface Serializer {
  serialize(value: unknown): string
  deserialize(text: string): unknown
}

/** The default: JSON, as bentocache's. */
export const jsonSerializer: Serializer = {
  serialize: (value) => JSON.stringify(value),
  deserialize: (text) => JSON.parse(text),
}

/**
 * `value` as text by `serializer`.
 * @throws {SerializationError} when it throws or returns no string (a function, a symbol).
 */
export function serializeValue(serializer: Serializer, key: string, value: unknown): string {
  let text: unknown
  try {
    text = serializer.serialize(value)
  } catch (cause) {
    throw new SerializationError(key, cause)
  }
  if (typeof text !== 'string') throw new SerializationError(key)
  return text
}
