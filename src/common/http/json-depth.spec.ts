import fc from 'fast-check';
import { jsonTextNestsDeeperThan, nestsDeeperThan } from './json-depth';

/** `levels` objects, each the only value of the one before. */
function nested(levels: number): unknown {
  let value: unknown = 'leaf';
  for (let level = 0; level < levels; level++) value = { a: value };
  return value;
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');

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

describe('jsonTextNestsDeeperThan', () => {
  it('accepts exactly the bound and refuses one level more', () => {
    expect(jsonTextNestsDeeperThan(utf8(JSON.stringify(nested(32))), 32)).toBe(false);
    expect(jsonTextNestsDeeperThan(utf8(JSON.stringify(nested(33))), 32)).toBe(true);
  });

  it('does not count brackets inside strings, escaped quotes and backslashes included', () => {
    const tricky = ['[[[{{{', '\\"[[[', '\\\\', 'ü[ä{', '\u{1F600}[[', '\\u005b[['].map((text) => `{"k":"${text}"}`);
    for (const text of tricky) {
      expect(JSON.parse(text)).toBeDefined();
      expect(jsonTextNestsDeeperThan(utf8(text), 1)).toBe(false);
    }
    expect(jsonTextNestsDeeperThan(utf8('[{"k":"\\\\"},[[1]]]'), 2)).toBe(true);
  });

  it('stops at the first level past the bound, however long the text', () => {
    expect(jsonTextNestsDeeperThan(utf8(`${'['.repeat(40)}${'x'.repeat(100_000)}`), 32)).toBe(true);
  });

  it('agrees with a walk of the parsed value for any JSON, compact or indented', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue({ maxDepth: 6 }), fc.jsonValue({ maxDepth: 6, stringUnit: 'grapheme' })),
        fc.boolean(),
        fc.integer({ min: 0, max: 7 }),
        (value, indent, maxDepth) => {
          const text = JSON.stringify(value, null, indent ? 2 : undefined);
          expect(jsonTextNestsDeeperThan(utf8(text), maxDepth)).toBe(nestsDeeperThan(JSON.parse(text), maxDepth));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
