/**
 * Small predicates over parsed JSON, shared by everything that reads LM Studio's answers.
 *
 * @module
 */

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A JSON object that has `key`. */
export function isObjectWith(value: unknown, key: string): value is Record<string, unknown> {
  return isObject(value) && key in value;
}

/** A finite, non-negative number, else `null` (a field that was not observed is not claimed). */
export function nonNegativeNumber(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

/**
 * A token count as LM Studio reports one (a context length, a maximum): a positive safe integer,
 * else `null`. A string, zero, a negative or fractional number is not claimed.
 */
export function tokenCount(value: unknown): number | null {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : null;
}
