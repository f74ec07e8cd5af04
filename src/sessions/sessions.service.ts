import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { SessionData } from 'express-session';
import type { Filter } from 'mongodb';
import { randomUUID } from 'node:crypto';
import { RequestContext } from '../common/context/request-context';
import { AppException } from '../common/errors/app.exception';
import type { Page, PageRequest } from '../common/http/pagination';
import { ErrorCode } from '../common/errors/error-codes';
import type { AppConfiguration } from '../config/configuration';
import type { RevokedBy } from '../metrics/metrics.service';
import type { AuthenticatedUser, VerifiedUser } from '../users/authenticated-user';
import type { ChangeCause, UserChangeSubscriber } from '../users/user-changes';
import { UnfinishedChanges, UsersService } from '../users/users.service';
import type { ActiveSession } from './auth-state';
import { AmrEntry, amrOrPassword, AmrView, toAmrView, withProof } from './amr';
import { SECOND_STEP_MS, SecondStep } from './second-step';
import { ActivityWrites } from './activity-writes';
import { HashedMongoStore } from './hashed-mongo-store';
import { ACTIVITY_WRITES_REMEMBERED, SESSION_STORE } from './session.constants';
import type { SessionDocument, StoredSession } from './session-document';
import { EndedSession, SessionEventsService } from '../session-events/session-events.service';
import type { Ending, RotationReason } from '../session-events/ending';
import { EXPIRY_REASONS, ExpiryReason } from '../session-events/ending';
import { SessionExpiryPolicy, SessionTimestamps } from './session-expiry-policy';
import type { DeviceSignals } from '../devices/device-binding';
import { SessionsRepository } from './sessions.repository';
import { leftBehind, StaleSessions, underStamps } from './stale-sessions';

export interface SessionView {
  createdAt: string;
  lastActivityAt: string;
  idleExpiresAt: string;
  absoluteExpiresAt: string;
  amr: AmrView[];
}

export interface Revoker {
  by: RevokedBy;
  actorId?: string;
  /** Why, for the event log: `user`, `admin`, `user.disabled`, `role_changed`… */
  reason: string;
}

/** What a session stores besides express-session's cookie settings. */
export type SessionFields = Omit<SessionData, 'cookie'>;

/**
 * A session the browser must not hold: it gets no cookie, and its request fails
 * with `refused` (AUTH_1003 or AUTH_1004, or the error that kept the refused
 * session from being ended).
 */
export interface Refused {
  refused: unknown;
}

/** A session handed to a browser (its fields go into the request's session), or refused. */
export type Issued = { session: SessionFields } | Refused;

/** A new session's cookie settings as express-session stores them, and the device it signs in from. */
export interface NewSession {
  cookie: StoredSession['cookie'];
  device: DeviceSignals;
}

/** The timestamps activity needs of a session, as stored in it. */
export type SessionActivity = SessionTimestamps & { id: string; authenticatedAt?: Date; endedAtSignIn?: number; amr?: AmrEntry[] };

const LIMIT: Revoker = { by: 'system', reason: 'limit' };
const STALE_CREDENTIALS: Revoker = { by: 'system', reason: 'stale_credentials' };
/** Sessions an emergency sign-out reads at a time. */
const EMERGENCY_BATCH = 500;

/**
 * The one owner of a session's life: every write to `sessions` is made here
 * (through SessionsRepository and the store's insert), and every other module
 * asks. A session is live or ended; each transition is one conditional write
 * on `_id` plus the state it expects (live: not marked ended and before its
 * first deadline), so of any number of racing writers one wins, and only the
 * winner records the end (event, metric, log). Nothing moves an ended session
 * back. Every method takes and returns plain values (ids, users, timestamps),
 * so it runs the same from a request, a job, the CLI or a test; the request's
 * express-session and cookie are SessionHttpAdapter's (src/session-http).
 */
@Injectable()
export class SessionsService implements UserChangeSubscriber {
  private readonly logger = new Logger(SessionsService.name);
  private readonly maxPerUser: number;
  private readonly activityWrites: ActivityWrites;

  constructor(
    @Inject(SESSION_STORE) private readonly store: HashedMongoStore,
    private readonly repository: SessionsRepository,
    private readonly policy: SessionExpiryPolicy,
    private readonly events: SessionEventsService,
    private readonly users: UsersService,
    config: ConfigService<AppConfiguration, true>,
  ) {
    this.activityWrites = new ActivityWrites(policy.activityWriteIntervalMs, ACTIVITY_WRITES_REMEMBERED);
    this.maxPerUser = config.get('session', { infer: true }).maxPerUser;
    // The user each session copies is applied here, whoever changes it.
    users.subscribe(this);
  }

  /**
   * Sign-in, before the new session's id exists: `previous`, a live session
   * the browser held, is ended (recorded), and beyond SESSION_MAX_PER_USER
   * the user's least recently active sessions end; how many of those.
   */
  async makeRoomForSignIn(userId: string, previous?: EndedSession): Promise<number> {
    if (previous) await this.endIfLive(previous, { by: 'user', actorId: userId, reason: 'signed_in_again' });
    return this.makeRoomFor(userId);
  }

  /**
   * Sign-in: session `id` (fresh, so no fixation) for this user, issued under
   * the credential stamp the password was proved under. The client's address
   * and user agent come from the request context. `trustedDevice`: the
   * browser showed a device cookie of this account; without one it is a new
   * device. `endedAtSignIn`: what makeRoomForSignIn ended. `amr`: how the
   * sign-in was proven, when more than the password just now (a second step).
   */
  async start(
    id: string,
    user: VerifiedUser,
    { cookie, device, trustedDevice, endedAtSignIn, amr }: NewSession & { trustedDevice: boolean; endedAtSignIn: number; amr?: AmrEntry[] },
  ): Promise<Issued> {
    const now = new Date();
    const session = {
      ...newSession(user, device, now),
      amr: amr ?? [{ method: 'pwd', at: now }],
      ...(endedAtSignIn > 0 ? { endedAtSignIn } : {}),
    } satisfies SessionFields;
    await this.store.insert(id, { ...session, cookie });
    const refused = await this.refusedUnlessCurrent({ id, userId: user.id, createdAt: now }, user);
    if (refused) return refused;
    await this.keepWithinLimit(user.id);
    this.events.created({ id, userId: user.id });
    await this.events.loginSucceeded(user, id, trustedDevice);
    if (!trustedDevice) await this.events.newDevice(user, id, device);
    return { session };
  }

  /**
   * The password step of a sign-in that needs a second one: session `id`
   * (fresh) allows only that step, for SECOND_STEP_MS. It is no sign-in yet:
   * nothing is recorded, no room is made under SESSION_MAX_PER_USER, and a
   * known browser's sign-in point stays counted until the second step.
   */
  async startPending(
    id: string,
    user: VerifiedUser,
    { cookie, device, secondStep }: NewSession & { secondStep: SecondStep },
  ): Promise<Issued> {
    const now = new Date();
    const session = {
      ...newSession(user, device, now),
      amr: [{ method: 'pwd', at: now }],
      pending: { ...secondStep, until: new Date(now.getTime() + SECOND_STEP_MS) },
    } satisfies SessionFields;
    await this.store.insert(id, { ...session, cookie });
    const refused = await this.refusedUnlessCurrent({ id, userId: user.id, createdAt: now }, { ...user, device: undefined });
    return refused ?? { session };
  }

  /**
   * The session was issued under `stamp` (the user's credential stamp as just
   * read); otherwise a credential change is ending it right now: it is ended
   * here (recorded once) and refused with AUTH_1003.
   */
  async checkIssuedUnder(session: EndedSession & { stamp?: string }, stamp: string): Promise<Refused | undefined> {
    if ((session.stamp ?? '') === stamp) return undefined;
    return this.endStale(session);
  }

  /** A credential change made from the session lost to one that came first: it ends here (recorded once), refused with AUTH_1003. */
  endStale(session: EndedSession): Promise<Refused> {
    return this.refuse(session, ErrorCode.SESSION_INVALID);
  }

  /**
   * The first half of rotation (re-authentication, password change): the
   * session's current id ends, by a conditional write, so a session ended
   * meanwhile (by an admin, a credential change) stays ended; false then.
   */
  endForRotation(previous: EndedSession, reason: RotationReason): Promise<boolean> {
    return this.endOnce(previous, { event: 'session.rotated', reason });
  }

  /**
   * The second half: the same session under the new id `id`. Sign-in time and
   * absolute deadline stay (from `old`); who the user is comes from `user`,
   * read with the password just proved. It lives only if the stamp `user` was
   * proved under is still the account's stamp after the insert. `proved`, a
   * method just proven (re-authentication), joins its amr and opens
   * sensitive actions for REAUTH_MINUTES.
   */
  async continueSession(
    id: string,
    old: SessionFields,
    { user, proved, reason, cookie }: { user: VerifiedUser; proved?: AmrEntry; reason: RotationReason; cookie: StoredSession['cookie'] },
  ): Promise<Issued> {
    const session = {
      userId: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      stamp: user.stamp,
      createdAt: old.createdAt,
      lastActivityAt: new Date(),
      authenticatedAt: proved?.at ?? old.authenticatedAt,
      amr: proved ? withProof(amrOrPassword(old.amr, old.createdAt), proved.method, proved.at) : amrOrPassword(old.amr, old.createdAt),
      ip: old.ip,
      userAgent: old.userAgent,
      device: old.device,
    } satisfies SessionFields;
    await this.store.insert(id, { ...session, cookie });
    const refused = await this.refusedUnlessCurrent({ id, userId: old.userId, createdAt: old.createdAt }, user);
    if (refused) return refused;
    // A sign-in that ran while the old id was gone and this one not yet inserted counted one session too few.
    await this.keepWithinLimit(user.id);
    if (reason === 'reauthenticated') await this.events.reauthenticated(user, id);
    return { session };
  }

  /**
   * Sign-out: ends session `id` server-side (recorded once). `known`: the
   * session as the request loaded it; without it (MongoDB could not load it)
   * it is looked up again, which fails while the database is down.
   */
  async signOut(id: string, known?: EndedSession): Promise<void> {
    const session = known ?? (await this.repository.findById(id).then((document) => document && toEnded(document)));
    if (session) await this.endOnce(session, { event: 'logout' });
  }

  /**
   * A request found the session past a deadline: deleted, so it can never come
   * back; true when this call ended it (and recorded it). Not recorded by the
   * losers among parallel requests, nor when the expiry pass got there first.
   * `liveInStore`: the deadline it was stored with is still ahead (the windows
   * were shortened since it was written), so the database counts it live and
   * it is ended as a live session.
   */
  async expire(session: EndedSession, reason: ExpiryReason, { liveInStore = false } = {}): Promise<boolean> {
    return this.endOnce(session, { event: 'session.expired', reason }, { state: liveInStore ? 'live' : 'due' });
  }

  /**
   * The expiry pass: sessions are marked ended (and recorded) while they are
   * still past their deadline, so a request that just recorded activity is not
   * cut off; a batch at a time, a few writes per batch rather than two per
   * session. They are not deleted: the owner's next request still learns why
   * it ended (AUTH_1002 with the reason) and deletes it; the TTL index or the
   * sweep removes the rest a day later. How many this call ended.
   */
  async endPastDeadline(due: { session: EndedSession; reason: ExpiryReason }[]): Promise<number> {
    const pass = randomUUID();
    let ended = 0;
    for (const reason of EXPIRY_REASONS) {
      const sessions = due.filter((entry) => entry.reason === reason).map((entry) => entry.session);
      const marked = new Set(
        await this.repository.markEnded(
          sessions.map((session) => session.id),
          reason,
          pass,
        ),
      );
      const recorded = sessions.filter((session) => marked.has(session.id));
      await this.events.expiredMany(recorded, reason);
      await this.repository.markRecorded([...marked], pass);
      ended += recorded.length;
    }
    return ended;
  }

  /**
   * Records the ends of `ids` that a pass marked but never recorded, because it
   * failed in between (marks older than `markedBefore`, so a pass still at
   * work keeps its own); how many.
   */
  async recordEndingsLeftBehind(ids: string[], markedBefore: Date): Promise<number> {
    const pass = randomUUID();
    const claimed = await this.repository.claimUnrecorded(ids, pass, markedBefore);
    // Ended one at a time by a request or a job that died before recording: its mark says how.
    for (const document of claimed.filter((each) => each.session.ending !== undefined)) {
      await this.events.ended(toEnded(document), document.session.ending!);
      await this.repository.deleteRecorded(document._id, pass);
    }
    for (const reason of EXPIRY_REASONS) {
      const documents = claimed.filter((document) => document.session.ending === undefined && document.session.endedReason === reason);
      const sessions = documents.map((document) => {
        const deadlines = this.policy.deadlines({
          createdAt: new Date(document.session.createdAt),
          lastActivityAt: new Date(document.session.lastActivityAt),
        });
        return { ...toEnded(document), endedAt: SessionExpiryPolicy.endedAt(deadlines, reason) };
      });
      await this.events.expiredMany(sessions, reason);
    }
    await this.repository.markRecorded(
      claimed.map((document) => document._id),
      pass,
    );
    return claimed.length;
  }

  /** The session was used from another device (see sameDevice): it ends at once, recorded with both devices. */
  async endForDeviceChange(
    session: EndedSession,
    signedInWith: { userAgent: string; device: DeviceSignals },
    usedDevice: DeviceSignals,
  ): Promise<void> {
    await this.endOnce(session, { event: 'session.anomaly', signedInWith, usedDevice });
  }

  /** Ends one live session by public id; false when there is no such live session (of `ownerId`, when given). */
  async revoke(id: string, revoker: Revoker, ownerId?: string): Promise<boolean> {
    const document = await this.repository.findById(id);
    if (!document || (ownerId !== undefined && document.session.userId !== ownerId)) return false;
    return this.endIfLive(toEnded(document), revoker);
  }

  /** Ends every live session of a user except `exceptId`; how many this call ended (each recorded once). */
  async revokeAllOfUser(userId: string, revoker: Revoker, exceptId?: string): Promise<number> {
    const documents = await this.repository.findActiveOfUser(userId, exceptId);
    return this.endEach(documents, revoker);
  }

  /**
   * Before an admin's credential change (role, disabled) to `stamp` is
   * written (UsersService.update), and again before a retried write: every
   * live session of the user under another stamp ends.
   */
  async revokeStale(userId: string, stamp: string, revoker: Revoker): Promise<number> {
    const stale = (await this.repository.findActiveOfUser(userId)).filter((document) => document.session.stamp !== stamp);
    return this.endEach(stale, revoker, { 'session.stamp': { $ne: stamp } });
  }

  /**
   * Before a credential change from stamp `proved` is saved: every live session
   * of the user still under it ends (but `exceptId`, the session making the
   * change). Not the sessions that other changes from `proved` moved ahead:
   * one of those may win instead (see leftBehind).
   */
  async revokeUnder(userId: string, proved: string, revoker: Revoker, exceptId: string): Promise<number> {
    return this.revokeMatching(userId, underStamps([proved]), revoker, exceptId);
  }

  /**
   * After a credential change was saved: what the account's credential
   * changes left behind ends (leftBehind, with the stamps the account lists
   * and its stamp, read together: sign-ins that raced in under a replaced
   * stamp, sessions of changes that lost, and anything an earlier change
   * whose clean-up failed left); then the account lists none, and the audit
   * events of admin changes it lists are recorded (finish). A password
   * change's own session `changer.id` (moved to `changer.stamp`) is spared
   * only while the account's stamp is still the change's: once a later change
   * (an admin's) replaced it, that session is left behind too, and nothing
   * else would end it.
   */
  async revokeLeftBehind(userId: string, revoker: Revoker, changer?: { id: string; stamp: string }): Promise<number> {
    const unfinished = await this.users.unfinishedChanges(userId);
    if (!unfinished) return 0;
    return this.finish(unfinished, revoker, changer && unfinished.current === changer.stamp ? changer.id : undefined);
  }

  /**
   * Finishes credential changes that failed (or crashed) after writing the
   * new stamp, before ending what they left behind or recording their audit
   * events (revokeLeftBehind, for every account with something unfinished).
   * How many sessions ended. Run by the expiry pass.
   */
  async finishUnfinishedChanges(): Promise<number> {
    let ended = 0;
    for (const unfinished of await this.users.withUnfinishedChanges()) ended += await this.finish(unfinished, STALE_CREDENTIALS);
    return ended;
  }

  /**
   * Ends what the changes left behind, then records their audit events. A
   * session that moved on to a newer stamp (the one making a change still in
   * progress) is not left behind: it stays.
   */
  private async finish({ id, stale, current, events }: UnfinishedChanges, revoker: Revoker, exceptId?: string): Promise<number> {
    let ended = 0;
    if (stale.length > 0) {
      ended = await this.revokeMatching(id, leftBehind(stale, current), revoker, exceptId);
      await this.users.staleSessionsEnded(id, stale);
    }
    if (events.length > 0) {
      await this.events.accountChanged(events.map(({ event }) => event));
      await this.users.accountEventsRecorded(
        id,
        events.map(({ stored }) => stored),
      );
    }
    return ended;
  }

  private async revokeMatching(userId: string, sessions: StaleSessions, revoker: Revoker, exceptId?: string): Promise<number> {
    const documents = (await this.repository.findActiveOfUser(userId, exceptId)).filter(sessions.matches);
    return this.endEach(documents, revoker, sessions.filter);
  }

  /**
   * Ahead of a credential change from stamp `from` to `to` made from session
   * `id`: the session moves to `to` first, so nothing that ends the sessions
   * under `from` (the change's own clean-up, or the expiry pass finishing it)
   * ends the session making it. AUTH_1003 when the session is no longer live
   * under `from` (ended meanwhile, or moved by another change).
   */
  async moveToStamp(id: string, from: string, to: string): Promise<void> {
    if (!(await this.repository.restamp(id, from, to))) throw new AppException(ErrorCode.SESSION_INVALID);
  }

  /**
   * Emergency sign-out: every live session but the caller's ends, each
   * recorded as revoked by the admin, then one summary event says how many.
   * `stillAllowed` runs before each batch ends: when it throws (its admin was
   * disabled or demoted meanwhile), the sign-out stops there, and the summary
   * says how many it had ended.
   */
  async revokeAllExcept(currentId: string, actor: AuthenticatedUser, stillAllowed: () => Promise<void>): Promise<number> {
    const revoker: Revoker = { by: 'admin', actorId: actor.id, reason: 'emergency' };
    let ended = 0;
    try {
      for (let after = ''; ;) {
        const batch = await this.repository.findActiveAfter(after, EMERGENCY_BATCH);
        if (batch.length === 0) break;
        await stillAllowed();
        ended += await this.endEach(
          batch.filter((document) => document._id !== currentId),
          revoker,
        );
        after = batch[batch.length - 1]._id;
      }
    } catch (error) {
      if (ended > 0) await this.events.revokedAll(ended, actor);
      throw error;
    }
    await this.events.revokedAll(ended, actor);
    return ended;
  }

  /** A page of live sessions, of one user or everyone's, most recently active first. */
  activePage(page: PageRequest, userId?: string): Promise<Page<SessionDocument>> {
    return this.repository.findActivePage(page, userId);
  }

  /** An admin's credential change (role, disabled) to `stamp` is about to be written: see revokeStale. */
  async credentialsChanging(userId: string, stamp: string, cause: ChangeCause): Promise<void> {
    await this.revokeStale(userId, stamp, cause);
  }

  /** An admin's credential change was written: see revokeLeftBehind. */
  async credentialsChanged(userId: string, cause: ChangeCause): Promise<void> {
    await this.revokeLeftBehind(userId, cause);
  }

  /** A user's name or email changed: their sessions show it from the next request on. */
  async profileChanged(user: { id: string; email: string; name: string }): Promise<void> {
    await this.repository.refreshUser(user);
  }

  /** Ends a live session and records it; false when it was not live (someone else ended it, or it expired). */
  private endIfLive(session: EndedSession, revoker: Revoker, also?: Filter<SessionDocument>): Promise<boolean> {
    return this.endOnce(session, { event: 'session.revoked', ...revoker }, { state: 'live', also });
  }

  /**
   * Ends one session (while it is `state`, live by default, and `also`
   * matches), records `ending`, then removes it; true when this call ended it.
   * The mark comes first and carries the event: a crash before the record
   * leaves the mark for the expiry pass to record (recordEndingsLeftBehind),
   * so no end goes unrecorded, and only the marking call records it.
   */
  private async endOnce(
    session: EndedSession,
    ending: Ending,
    condition: { state: 'live' | 'due'; also?: Filter<SessionDocument> } = { state: 'live' },
  ): Promise<boolean> {
    const token = randomUUID();
    if (!(await this.repository.markEnding(session.id, ending, token, condition))) return false;
    await this.events.ended(session, ending);
    await this.repository.deleteRecorded(session.id, token);
    return true;
  }

  private async endEach(documents: SessionDocument[], revoker: Revoker, also?: Filter<SessionDocument>): Promise<number> {
    const ended = await Promise.all(documents.map((document) => this.endIfLive(toEnded(document), revoker, also)));
    return ended.filter(Boolean).length;
  }

  /** Ends the user's least recently active sessions so one more fits under SESSION_MAX_PER_USER; how many ended. */
  private async makeRoomFor(userId: string): Promise<number> {
    if (this.maxPerUser === 0) return 0;
    const active = signedIn(await this.repository.findActiveOfUser(userId));
    const excess = active.length - (this.maxPerUser - 1);
    if (excess <= 0) return 0;
    return this.endEach(active.sort(leastRecentlyActiveFirst).slice(0, excess), LIMIT);
  }

  /**
   * After the insert: parallel sign-ins each made room before any of them
   * inserted, so together they may exceed the limit. Each trims after its own
   * insert, by one order all of them agree on, so the last to look ends every
   * session beyond the limit and no trim ends one of the most recent.
   */
  private async keepWithinLimit(userId: string): Promise<void> {
    if (this.maxPerUser === 0) return;
    const active = signedIn(await this.repository.findActiveOfUser(userId));
    if (active.length <= this.maxPerUser) return;
    await this.endEach(active.sort(leastRecentlyActiveFirst).slice(0, active.length - this.maxPerUser), LIMIT);
  }

  /**
   * The session carries the user's role and requests do not re-read the
   * account, so a credential change (password, role, disabled) made while this
   * session was being issued must not miss it: the change wrote the account
   * before ending stale sessions, and this reads the account after the insert,
   * so either that ending saw the new session or this read sees the change.
   * The same command gives a known browser its sign-in point back.
   */
  private async refusedUnlessCurrent(session: EndedSession, { stamp, device }: VerifiedUser): Promise<Refused | undefined> {
    const now = await this.users.currentCredentials(session.userId, device);
    if (now && !now.disabled && now.stamp === stamp) return undefined;
    return this.refuse(session, now?.disabled ? ErrorCode.ACCOUNT_DISABLED : ErrorCode.SESSION_INVALID);
  }

  /** Ends a session issued under stale credentials; its request fails with `code`, or with the ending's own error. */
  private async refuse(session: EndedSession, code: ErrorCode): Promise<Refused> {
    try {
      await this.endIfLive(session, STALE_CREDENTIALS);
    } catch (error) {
      return { refused: error };
    }
    return { refused: new AppException(code) };
  }

  /**
   * Counts a request of the session as activity, writing at most once per
   * write interval (also when a burst of requests loaded the session before
   * the write) unless forced ("stay signed in"). The write applies only to a
   * live session: one ended meanwhile stays ended. A failed write is logged,
   * never shown to the user (unless forced). The session as it is now when
   * this call wrote it.
   */
  async recordActivity(session: SessionActivity, options: { force?: boolean } = {}): Promise<ActiveSession | undefined> {
    const { id, createdAt } = session;
    const now = new Date();
    if (!options.force && !this.policy.shouldRecordActivity(session, now)) return undefined;
    if (!this.activityWrites.claim(id, now.getTime()) && !options.force) return undefined;
    let written: boolean;
    try {
      written = await this.repository.recordActivity(id, createdAt, now);
    } catch (error) {
      this.activityWrites.release(id, now.getTime());
      if (options.force) throw error;
      this.logger.warn(`Could not record session activity: ${(error as Error).message}`);
      return undefined;
    }
    // Ended meanwhile (signed out, revoked, expired): it stays ended, and "stay signed in" says so.
    if (!written) {
      if (options.force) throw new AppException(ErrorCode.SESSION_INVALID);
      return undefined;
    }
    return this.describe(id, { ...session, lastActivityAt: now });
  }

  describe(
    id: string,
    timestamps: SessionTimestamps & { authenticatedAt?: Date; endedAtSignIn?: number; amr?: AmrEntry[] },
  ): ActiveSession {
    const { createdAt, lastActivityAt } = timestamps;
    return {
      id,
      createdAt,
      lastActivityAt,
      // Sessions stored before this was kept count as proved at sign-in.
      authenticatedAt: timestamps.authenticatedAt ?? createdAt,
      endedAtSignIn: timestamps.endedAtSignIn ?? 0,
      amr: amrOrPassword(timestamps.amr, createdAt),
      ...this.policy.deadlines({ createdAt, lastActivityAt }),
    };
  }

  static toView(session: ActiveSession): SessionView {
    return {
      createdAt: session.createdAt.toISOString(),
      lastActivityAt: session.lastActivityAt.toISOString(),
      idleExpiresAt: session.idleExpiresAt.toISOString(),
      absoluteExpiresAt: session.absoluteExpiresAt.toISOString(),
      amr: toAmrView(session.amr),
    };
  }
}

/**
 * Sessions that are sign-ins, not password steps waiting for a second one:
 * whoever knows the password can start those, and they must not push the
 * owner's sessions out under SESSION_MAX_PER_USER.
 */
function signedIn(documents: SessionDocument[]): SessionDocument[] {
  return documents.filter((document) => document.session.pending === undefined);
}

function toEnded(document: SessionDocument): EndedSession {
  return { id: document._id, userId: document.session.userId, createdAt: document.session.createdAt };
}

/** Most recently active last; ties by sign-in time, then id, so every instance picks the same sessions. */
function leastRecentlyActiveFirst(a: SessionDocument, b: SessionDocument): number {
  const time = (value: Date) => new Date(value).getTime();
  return (
    time(a.session.lastActivityAt) - time(b.session.lastActivityAt) ||
    time(a.session.createdAt) - time(b.session.createdAt) ||
    (a._id < b._id ? -1 : a._id > b._id ? 1 : 0)
  );
}

/** What every new session stores of its user and client. The client's address and user agent come from the request context. */
function newSession(user: VerifiedUser, device: DeviceSignals, now: Date) {
  const client = RequestContext.client();
  return {
    userId: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    stamp: user.stamp,
    createdAt: now,
    lastActivityAt: now,
    authenticatedAt: now,
    // Capped as every stored client fact is.
    ip: client.ip,
    userAgent: client.userAgent,
    // From the whole header, as each request's check computes it.
    device,
  };
}
