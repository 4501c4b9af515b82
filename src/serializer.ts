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
