import { withinDepth } from '../cut.js';

/** A JSON object (not an array, not null). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object as it is, or JSON text that holds one (tool arguments and outputs come either way). */
export function jsonObject(value: unknown): Record<string, unknown> | undefined {
  if (isObject(value)) return value;
  if (typeof value !== 'string') return undefined;
  try {
    const v: unknown = JSON.parse(value);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * JSON text of a decoded value, as JSON.stringify writes it. A value nested too deep for
 * JSON.stringify to recurse through (thousands of levels) is written cut at the content depth
 * limit instead of overflowing the stack.
 */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return JSON.stringify(withinDepth(value, 0));
  }
}
