import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { CsrfGuard } from '../common/http/csrf/csrf.guard';
import { RecentAuthGuard } from './recent-auth.guard';
import { RolesGuard } from './roles.guard';
import { SecureTransportGuard } from './secure-transport.guard';
import { SessionGuard } from './session.guard';

/** What every global guard is here: a synchronous yes, no, or a thrown AppException. */
interface SynchronousGuard {
  canActivate(context: ExecutionContext): boolean;
}

/**
 * The global guards, run in order as one: Nest awaits each guard it runs (two
 * promises apiece, each also seen by the request context's async hooks), and
 * none of these ever waits for anything. Order matters: who you are, what you
 * may do, whether a cookie can be set, whether the request is forged, then
 * whether a sensitive action has a recent password behind it. A guard that
 * answers no ends the request as Nest would (403).
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly guards: readonly SynchronousGuard[];

  constructor(session: SessionGuard, roles: RolesGuard, transport: SecureTransportGuard, csrf: CsrfGuard, recent: RecentAuthGuard) {
    this.guards = [session, roles, transport, csrf, recent];
  }

  canActivate(context: ExecutionContext): boolean {
    return this.guards.every((guard) => guard.canActivate(context));
  }
}
