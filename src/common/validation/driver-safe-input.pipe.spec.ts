import { AppException } from '../errors/app.exception';
import { DriverSafeInputPipe, firstUnsafeField } from './driver-safe-input.pipe';

describe('firstUnsafeField', () => {
  it('accepts ordinary text, paired surrogates and non-strings', () => {
    expect(firstUnsafeField({ q: 'ünïcødé 例え 😀', page: 2, on: true, none: null, list: ['a', { b: 'c' }] })).toBeUndefined();
  });

  it.each([
    ['a NUL', { q: 'a\u0000b' }, 'q'],
    ['a lone high surrogate', { name: 'x\uD800' }, 'name'],
    ['a lone low surrogate', { name: '\uDC00x' }, 'name'],
    ['reversed halves', { name: '\uDC00\uD800' }, 'name'],
    ['a nested string', { response: { id: ['ok', 'b\u0000'] } }, 'response.id.1'],
    ['a field name', { ['k\u0000']: 'v' }, 'k\uFFFD'],
  ])('names the field holding %s', (_name, value, field) => {
    expect(firstUnsafeField(value)).toBe(field);
  });

  it('prefixes the parameter name and survives any nesting depth', () => {
    expect(firstUnsafeField('\u0000', ['id'])).toBe('id');
    let deep: unknown = 'end\u0000';
    for (let depth = 0; depth < 100_000; depth++) deep = { a: deep };
    expect(firstUnsafeField(deep)?.split('.').length).toBe(100_000);
  });
});

describe('DriverSafeInputPipe', () => {
  const sut = new DriverSafeInputPipe();

  it('refuses an unsafe query string with VAL_2001 naming the field, and passes the rest unchanged', () => {
    const query = { q: 'ok' };
    expect(sut.transform(query, { type: 'query' })).toBe(query);
    expect(() => sut.transform({ q: '\u0000' }, { type: 'query' })).toThrow(AppException);
    const thrown = (() => {
      try {
        sut.transform('\uD800', { type: 'body' });
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toMatchObject({ code: 'VAL_2001', details: { fields: { body: expect.any(String) } } });
  });

  it('leaves custom parameters (the signed-in user, the session) alone', () => {
    expect(sut.transform({ name: '\u0000' }, { type: 'custom' })).toEqual({ name: '\u0000' });
  });
});
