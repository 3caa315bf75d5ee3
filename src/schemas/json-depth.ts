/**
 * Nesting depth of a JSON text, found without parsing it. V8's JSON.parse takes seconds on a
 * 16 MB `[[[[…]]]]` (the time grows with depth, not just size: issue 11 finding 7), while no
 * request body of the API nests deeper than a handful of levels. One linear pass over the text
 * (skipping string contents, where brackets are just characters) tells whether it nests deeper
 * than a limit, on the raw bytes (a few ns per byte, a fraction of what parsing the same text
 * costs), before the parser ever sees it.
 */

/** Deepest nesting any request body needs (`{"activity":{"loop":[{"flags":[…]}]}}` is 4). */
export const MAX_JSON_DEPTH = 16;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/** True when the JSON text in `bytes` (UTF-8) opens more than `max` arrays/objects inside one another. */
export function jsonNestsDeeperThan(bytes: Uint8Array, max: number): boolean {
  if (bytes.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
  return false;
}
