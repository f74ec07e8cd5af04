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
