import { Injectable } from '@nestjs/common';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { PagedList, pagedList } from '../common/http/pagination';
import type { ActiveSession } from '../sessions/auth-state';
import { RecentAuthPolicy } from '../sessions/recent-auth.policy';
import { FactorView, SecondFactorsService } from '../second-factors/second-factors.service';
import { SessionEventQueries } from '../session-events/session-event-queries.service';
import { AdminSessionView, toAdminSessionView } from '../sessions/session-views';
import { Revoker, SessionsService } from '../sessions/sessions.service';
import { AuthenticatedUser, newCredentialStamp } from '../users/authenticated-user';
import { AccountRolesLock } from '../users/account-roles.lock';
import { CredentialChange, takesAwayActiveAdmin, UsersService } from '../users/users.service';
import type { AccountEvent } from '../users/user-changes';
import { RequestContext } from '../common/context/request-context';
import { ActiveSessionsNow } from './active-sessions-now';
import { AdminOverview, AdminUserView, EventView, toAdminUserView, toEventView } from './admin-views';
import { AdminEventsQueryDto, AdminSessionsQueryDto, AdminUsersQueryDto } from './dto/admin-queries.dto';
import { CreateUserDto, UpdateUserDto } from './dto/user-changes.dto';

const DAY_MS = 24 * 60 * 60_000;

const byAdmin = (actor: AuthenticatedUser, reason: string): Revoker => ({ by: 'admin', actorId: actor.id, reason });

/** What the audit trail records of `actor`'s change to `user` under the new stamp `stamp`, made now, from this request. */
function accountEvent(
  type: AccountEvent['type'],
  user: { id: string; email: string },
  actor: AuthenticatedUser,
  stamp: string,
  detail: Pick<AccountEvent, 'reason' | 'count'> = {},
): AccountEvent {
  return {
    key: `${type}:${stamp}`,
    type,
    userId: user.id,
    email: user.email,
    actorId: actor.id,
    ...detail,
    at: new Date().toISOString(),
    ...RequestContext.client(),
  };
}

/** What administrators do: users, everyone's sessions, the event log. */
@Injectable()
export class AdminService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly eventLog: SessionEventQueries,
    private readonly activeSessions: ActiveSessionsNow,
    private readonly recentAuth: RecentAuthPolicy,
    private readonly factors: SecondFactorsService,
    private readonly rolesLock: AccountRolesLock,
  ) {}

  async overview(): Promise<AdminOverview> {
    const asked = Date.now();
    const since = new Date(asked - DAY_MS);
    const [active, users, last24h] = await Promise.all([this.activeSessions.count(), this.users.count(), this.eventLog.countsSince(since)]);
    return {
      activeSessions: active.count,
      activeSessionsCountedBefore: active.countedAt.getTime() < asked ? active.countedAt.toISOString() : undefined,
      users,
      last24h,
    };
  }

  async listUsers(query: AdminUsersQueryDto): Promise<PagedList<AdminUserView>> {
    const { items, total } = await this.users.findPage(query.q, query);
    return pagedList(items.map(toAdminUserView), total, query);
  }

  async getUser(id: string): Promise<AdminUserView> {
    const user = await this.users.findById(id);
    if (!user) throw new AppException(ErrorCode.NOT_FOUND);
    return toAdminUserView(user);
  }

  /**
   * Creating an admin needs recent authentication (`current`: the caller's
   * session), and runs with role changes (AccountRolesLock): an admin
   * disabled or demoted while it waited is turned back (401).
   */
  async createUser(actor: AuthenticatedUser, input: CreateUserDto, current: ActiveSession): Promise<AdminUserView> {
    if (input.role !== 'admin') return toAdminUserView(await this.users.create(input));
    this.recentAuth.assertRecent(current);
    return this.rolesLock.whileHeld(async () => {
      await this.assertStillAdmin(actor);
      return toAdminUserView(await this.users.create(input));
    });
  }

  /**
   * Disabling ends all the user's sessions at once; a role change ends them
   * too, so the new role applies from the next sign-in (both change the
   * credential stamp). Admins cannot disable or demote themselves (no locking
   * the last door from inside), and nobody can disable or demote the last
   * active admin (RES_3002). Role and disabled changes run one at a time
   * (AccountRolesLock), each reading the accounts as the one before left them:
   * two admins taking each other away at once cannot both pass the check, and
   * an admin taken away while their own change waited is turned back (401).
   */
  async updateUser(actor: AuthenticatedUser, current: ActiveSession, id: string, changes: UpdateUserDto): Promise<AdminUserView> {
    if (changes.role === undefined && changes.disabled === undefined) return this.applyUserChanges(actor, id, changes);
    // A role change or (dis)abling is sensitive; renaming is not.
    this.recentAuth.assertRecent(current);
    return this.rolesLock.whileHeld(async (confirm) => {
      await this.assertStillAdmin(actor);
      return this.applyUserChanges(actor, id, changes, confirm);
    });
  }

  /** The admin's account as it is now, under the lock: taken away while their request waited, their sessions ended with it. */
  private async assertStillAdmin(actor: AuthenticatedUser): Promise<void> {
    if (!(await this.users.isActiveAdmin(actor.id))) throw new AppException(ErrorCode.SESSION_INVALID);
  }

  private async applyUserChanges(
    actor: AuthenticatedUser,
    id: string,
    changes: UpdateUserDto,
    confirm?: () => Promise<void>,
  ): Promise<AdminUserView> {
    const before = await this.users.findById(id);
    if (!before) throw new AppException(ErrorCode.NOT_FOUND);
    const disabling = changes.disabled !== undefined && changes.disabled !== before.disabled;
    const roleChanging = changes.role !== undefined && changes.role !== before.role;
    if (before.id === actor.id && (disabling || roleChanging)) {
      throw new AppException(ErrorCode.INVALID_INPUT, {
        fields: { [disabling ? 'disabled' : 'role']: 'you cannot change this on your own account' },
      });
    }
    if (takesAwayActiveAdmin(before, changes)) await this.users.assertAnotherActiveAdmin(id);
    // A credential change: a new stamp, and every session issued under another one ends (UsersService.update).
    let credentials: CredentialChange | undefined;
    if (disabling || roleChanging) {
      const stamp = newCredentialStamp();
      const events = [
        ...(disabling ? [accountEvent(changes.disabled ? 'user.disabled' : 'user.enabled', before, actor, stamp)] : []),
        ...(roleChanging ? [accountEvent('user.role_changed', before, actor, stamp, { reason: `${before.role}→${changes.role}` })] : []),
      ];
      credentials = { stamp, cause: byAdmin(actor, changes.disabled ? 'user.disabled' : 'role_changed'), events, confirm };
    }
    const after = await this.users.update(before, changes, credentials);
    if (!after) throw new AppException(ErrorCode.NOT_FOUND);
    return toAdminUserView(after);
  }

  /** The user's second factors, as the admin page lists them (never a secret). */
  secondFactorsOf(id: string): Promise<FactorView[]> {
    return this.factors.list(id);
  }

  /**
   * Removes every second factor and recovery code of a user who lost them
   * (needs recent authentication): the credential stamp moves on, so all
   * their sessions end, and the next sign-in is by password (then enrolment,
   * if their role requires a factor). Not on one's own account: another admin
   * must confirm who is asking. It runs under AccountRolesLock, as role
   * changes do, so an admin taken away while it waited is turned back (401)
   * and removes nothing. How many factors there were.
   */
  async resetFactors(actor: AuthenticatedUser, current: ActiveSession, id: string): Promise<number> {
    this.recentAuth.assertRecent(current);
    if (id === actor.id) throw new AppException(ErrorCode.INVALID_INPUT, { fields: { id: 'you cannot reset your own second factors' } });
    return this.rolesLock.whileHeld(async (confirm) => {
      await this.assertStillAdmin(actor);
      const before = await this.users.findById(id);
      if (!before) throw new AppException(ErrorCode.NOT_FOUND);
      await confirm();
      // The factors go before the stamp moves: a sign-in reads the stamp first, so one that saw them holds the old stamp and ends.
      const removed = await this.factors.resetAll(id);
      const stamp = newCredentialStamp();
      const events = [accountEvent('mfa.reset', before, actor, stamp, { count: removed })];
      const after = await this.users.update(before, {}, { stamp, cause: byAdmin(actor, 'mfa.reset'), events, confirm });
      if (!after) throw new AppException(ErrorCode.NOT_FOUND);
      return removed;
    });
  }

  /** Everyone's sessions (or one user's); `currentId` marks the caller's own. */
  async listSessions(query: AdminSessionsQueryDto, currentId: string): Promise<PagedList<AdminSessionView>> {
    const { items, total } = await this.sessions.activePage(query, query.userId);
    const emails = await this.users.emailsByIds(items.map((document) => document.session.userId));
    return pagedList(
      items.map((document) => toAdminSessionView(document, currentId, emails)),
      total,
      query,
    );
  }

  /** Ends one session; `endedOwn` when it was the caller's (whose cookie is then the caller's to clear). */
  async endSession(actor: AuthenticatedUser, current: ActiveSession, id: string): Promise<{ endedOwn: boolean }> {
    this.recentAuth.assertRecent(current);
    if (!(await this.sessions.revoke(id, byAdmin(actor, 'admin')))) throw new AppException(ErrorCode.NOT_FOUND);
    return { endedOwn: id === current.id };
  }

  /** Ends every session of a user; `endedOwn` when that user is the caller (their own session ended too). */
  async endUserSessions(actor: AuthenticatedUser, current: ActiveSession, userId: string): Promise<{ endedOwn: boolean }> {
    this.recentAuth.assertRecent(current);
    await this.getUser(userId);
    await this.sessions.revokeAllOfUser(userId, byAdmin(actor, 'admin'));
    return { endedOwn: userId === actor.id };
  }

  /**
   * Emergency sign-out: every live session but the caller's ends, each
   * recorded, then one `session.revoked_all` summary. It can take a while:
   * an admin disabled or demoted meanwhile is turned back (401) before the
   * next batch.
   */
  async endAllSessions(actor: AuthenticatedUser, current: ActiveSession): Promise<number> {
    this.recentAuth.assertRecent(current);
    return this.sessions.revokeAllExcept(current.id, actor, () => this.assertStillAdmin(actor));
  }

  async listEvents(query: AdminEventsQueryDto): Promise<PagedList<EventView>> {
    const { items, total } = await this.eventLog.page({ type: query.type, userId: query.userId }, query);
    return pagedList(items.map(toEventView), total, query);
  }
}
