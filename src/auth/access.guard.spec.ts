import type { ExecutionContext } from '@nestjs/common';
import type { CsrfGuard } from '../common/http/csrf/csrf.guard';
import { AccessGuard } from './access.guard';
import type { RecentAuthGuard } from './recent-auth.guard';
import type { RolesGuard } from './roles.guard';
import type { SecureTransportGuard } from './secure-transport.guard';
import type { SessionGuard } from './session.guard';

const NAMES = ['session', 'roles', 'transport', 'csrf', 'recent'] as const;

/** Five stand-in guards that record their turn and answer as told. */
function guardsAnswering(answers: Partial<Record<(typeof NAMES)[number], boolean | Error>>) {
  const calls: string[] = [];
  const guards = NAMES.map((name) => ({
    canActivate: () => {
      calls.push(name);
      const answer = answers[name] ?? true;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  }));
  const [session, roles, transport, csrf, recent] = guards;
  const sut = new AccessGuard(
    session as unknown as SessionGuard,
    roles as unknown as RolesGuard,
    transport as unknown as SecureTransportGuard,
    csrf as unknown as CsrfGuard,
    recent as unknown as RecentAuthGuard,
  );
  return { sut, calls };
}

const context = {} as ExecutionContext;

describe('AccessGuard', () => {
  it('asks every guard, in order, and lets the request through when all agree', () => {
    const { sut, calls } = guardsAnswering({});
    expect(sut.canActivate(context)).toBe(true);
    expect(calls).toEqual([...NAMES]);
  });

  it('stops at the first guard that says no', () => {
    const { sut, calls } = guardsAnswering({ roles: false });
    expect(sut.canActivate(context)).toBe(false);
    expect(calls).toEqual(['session', 'roles']);
  });

  it('lets a guard’s error through and asks no later guard', () => {
    const refused = new Error('csrf refused');
    const { sut, calls } = guardsAnswering({ csrf: refused });
    expect(() => sut.canActivate(context)).toThrow(refused);
    expect(calls).toEqual(['session', 'roles', 'transport', 'csrf']);
  });
});
