import { nestsDeeperThan } from './json-depth';

/** `levels` objects, each the only value of the one before. */
function nested(levels: number): unknown {
  let value: unknown = 'leaf';
  for (let level = 0; level < levels; level++) value = { a: value };
  return value;
}

describe('nestsDeeperThan', () => {
  it('counts a top-level object or array as level 1 and scalars as no level', () => {
    expect(nestsDeeperThan('text', 0)).toBe(false);
    expect(nestsDeeperThan(null, 0)).toBe(false);
    expect(nestsDeeperThan({}, 0)).toBe(true);
    expect(nestsDeeperThan({}, 1)).toBe(false);
    expect(nestsDeeperThan([[1]], 1)).toBe(true);
    expect(nestsDeeperThan([[1]], 2)).toBe(false);
  });

  it('accepts exactly the bound and refuses one level more', () => {
    expect(nestsDeeperThan(nested(32), 32)).toBe(false);
    expect(nestsDeeperThan(nested(33), 32)).toBe(true);
  });

  it('finds the deep branch among wide shallow ones, in arrays and objects alike', () => {
    const wide = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`k${i}`, { v: [i] }]));
    expect(nestsDeeperThan(wide, 3)).toBe(false);
    expect(nestsDeeperThan({ ...wide, deep: [nested(3)] }, 4)).toBe(true);
  });

  it('walks a JSON body far deeper than the call stack allows without throwing', () => {
    const body = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(nestsDeeperThan(body, 32)).toBe(true);
  });

  it('sees keys JSON.parse makes own properties, such as __proto__', () => {
    expect(nestsDeeperThan(JSON.parse('{"__proto__":{"a":{"b":1}}}'), 2)).toBe(true);
  });
});
