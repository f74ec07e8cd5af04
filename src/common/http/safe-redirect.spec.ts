import { safeNextPath } from './safe-redirect';

describe('safeNextPath', () => {
  it.each([
    ['/dashboard', '/dashboard'],
    ['/account/sessions?page=2#top', '/account/sessions?page=2#top'],
    ['/admin/./users', '/admin/users'],
    ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
  ])('accepts the same-site path %s', (next, expected) => {
    expect(safeNextPath(next)).toBe(expected);
  });

  it.each([
    '//evil.example',
    'https://evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '/\r\nSet-Cookie:x',
    '/\tevil',
    'javascript:alert(1)',
    'dashboard',
    '',
    '/login?next=/login',
    '/logout',
    '/.//evil.example',
    '/..//evil.example',
    '/%2e//evil.example',
    '/%2E%2E//evil.example',
    '/a/..//evil.example',
    '/./%2e/..//evil.example',
  ])('refuses %j', (next) => {
    expect(safeNextPath(next)).toBe('/dashboard');
  });

  it('refuses anything that is not a string', () => {
    expect(safeNextPath(['/a', '/b'])).toBe('/dashboard');
    expect(safeNextPath({ $gt: '' })).toBe('/dashboard');
  });
});
