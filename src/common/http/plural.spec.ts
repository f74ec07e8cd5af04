import { countOf, plural } from './plural';

describe('plural', () => {
  it.each([
    [0, 'users'],
    [1, 'user'],
    [2, 'users'],
    [21, 'users'],
  ])('names %i users "%s"', (count, word) => {
    expect(plural(count, 'user')).toBe(word);
  });

  it('takes an irregular plural', () => {
    expect(countOf(3, 'was', 'were')).toBe('3 were');
    expect(countOf(1, 'active session')).toBe('1 active session');
  });
});
