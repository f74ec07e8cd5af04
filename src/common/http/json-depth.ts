const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * True when the JSON text `utf8` opens more than `maxDepth` arrays or objects
 * inside one another, read from its bytes before any parsing: brackets inside
 * strings do not count, and no byte of a multi-byte UTF-8 character is ASCII.
 * Exact for valid JSON; for invalid JSON the parser answers anyway.
 */
export function jsonTextNestsDeeperThan(utf8: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < utf8.length; i++) {
    const byte = utf8[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/**
 * True when `value` nests objects or arrays more than `maxDepth` levels deep
 * (a top-level object is level 1). Iterative, so no input can exhaust the
 * stack, and it stops at the first branch past the bound.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: unknown[] = [value];
  const levels: number[] = [1];
  while (pending.length > 0) {
    const current = pending.pop();
    const level = levels.pop() as number;
    if (current === null || typeof current !== 'object') continue;
    if (level > maxDepth) return true;
    for (const child of Object.values(current)) {
      if (child !== null && typeof child === 'object') {
        pending.push(child);
        levels.push(level + 1);
      }
    }
  }
  return false;
}
