import { parse } from 'cookie';
import { hasDuplicateCookie } from './duplicate-cookie';

const NAME = '__Host-session_token';

describe('hasDuplicateCookie', () => {
  it.each([
    [undefined, false],
    ['', false],
    [`${NAME}=a`, false],
    [`${NAME}=a; session_token=b`, false],
    [`${NAME}=a; __host-session_token=b; x${NAME}=c; ${NAME}x=d`, false],
    [`other=${NAME}=x; ${NAME}=a`, false],
    [`${NAME}; ${NAME}=a`, false],
    [`${NAME}=a; ${NAME}=b`, true],
    [`${NAME}=; ${NAME}=`, true],
    [`x=1;${NAME}=a;y=2;${NAME}=b`, true],
    [` \t${NAME} \t=a; ${NAME}=b`, true],
    [`${NAME}=a, ${NAME}=b`, false],
  ])('%j → %s', (header, expected) => {
    expect(hasDuplicateCookie(header, NAME)).toBe(expected);
  });

  it('counts a pair exactly where the cookie package (express-session, req.cookies) would read one', () => {
    const headers = [`${NAME}=a`, ` ${NAME}\t=a`, `\v${NAME}=a`, `${NAME}\u00a0=a`, `"${NAME}"=a`, `${NAME}`, `${NAME.toLowerCase()}=a`];
    for (const one of headers) {
      const readAsSession = parse(one)[NAME] !== undefined;
      expect(hasDuplicateCookie(`${one}; ${one}`, NAME)).toBe(readAsSession);
    }
  });
});
