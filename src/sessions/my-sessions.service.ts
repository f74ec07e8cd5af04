import { Injectable } from '@nestjs/common';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { PagedList, pagedList, PageRequest } from '../common/http/pagination';
import type { ActiveSession } from './auth-state';
import { RecentAuthPolicy } from './recent-auth.policy';
import { DeviceSessionView, toDeviceSessionView } from './session-views';
import { Revoker, SessionsService } from './sessions.service';

const BY_OWNER = (userId: string): Revoker => ({ by: 'user', actorId: userId, reason: 'user' });

/**
 * A person's own sessions: list, end one, end all others. Anyone else's
 * session is "not found". Ending another session needs recent authentication
 * (a stolen cookie must not sign the owner out everywhere); signing out this
 * one does not.
 */
@Injectable()
export class MySessionsService {
  constructor(
    private readonly sessions: SessionsService,
    private readonly recentAuth: RecentAuthPolicy,
  ) {}

  async list(userId: string, page: PageRequest, currentId: string): Promise<PagedList<DeviceSessionView>> {
    const { items, total } = await this.sessions.activePage(page, userId);
    return pagedList(
      items.map((document) => toDeviceSessionView(document, currentId)),
      total,
      page,
    );
  }

  /** Ends one of the user's sessions; true when it was the current one. RES_3001 for anyone else's. */
  async end(userId: string, id: string, current: ActiveSession): Promise<{ wasCurrent: boolean }> {
    if (id !== current.id) this.recentAuth.assertRecent(current);
    if (!(await this.sessions.revoke(id, BY_OWNER(userId), userId))) throw new AppException(ErrorCode.NOT_FOUND);
    return { wasCurrent: id === current.id };
  }

  endOthers(userId: string, current: ActiveSession): Promise<number> {
    this.recentAuth.assertRecent(current);
    return this.sessions.revokeAllOfUser(userId, BY_OWNER(userId), current.id);
  }
}
