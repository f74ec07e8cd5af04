import { hostOnlyCookieName } from './cookie-names';

describe('hostOnlyCookieName', () => {
  it('prefixes __Host- only for Secure cookies', () => {
    expect(hostOnlyCookieName('csrf', true)).toBe('__Host-csrf');
    expect(hostOnlyCookieName('csrf', false)).toBe('csrf');
  });
});
