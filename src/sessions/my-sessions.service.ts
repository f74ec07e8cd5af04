import { Injectable } from '@nestjs/common';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { PagedList, pagedList, PageRequest } from '../common/http/pagination';
import { DeviceSessionView, toDeviceSessionView } from './session-views';
import { SessionsRepository } from './sessions.repository';
import { Revoker, SessionsService } from './sessions.service';

const BY_OWNER = (userId: string): Revoker => ({ by: 'user', actorId: userId, reason: 'user' });

/** A person's own sessions: list, end one, end all others. Anyone else's session is "not found". */
@Injectable()
export class MySessionsService {
  constructor(
    private readonly sessions: SessionsService,
    private readonly repository: SessionsRepository,
  ) {}

  async list(userId: string, page: PageRequest, currentId: string): Promise<PagedList<DeviceSessionView>> {
    const { items, total } = await this.repository.findActivePage(page, userId);
    return pagedList(
      items.map((document) => toDeviceSessionView(document, currentId)),
      total,
      page,
    );
  }

  /** Ends one of the user's sessions; true when it was the current one. RES_3001 for anyone else's. */
  async end(userId: string, id: string, currentId: string): Promise<{ wasCurrent: boolean }> {
    if (!(await this.sessions.revoke(id, BY_OWNER(userId), userId))) throw new AppException(ErrorCode.NOT_FOUND);
    return { wasCurrent: id === currentId };
  }

  endOthers(userId: string, currentId: string): Promise<number> {
    return this.sessions.revokeAllOfUser(userId, BY_OWNER(userId), currentId);
  }
}
