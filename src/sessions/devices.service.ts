import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { PagedList, pagedList, PageQueryDto } from '../common/http/pagination';
import type { AuthenticatedUser } from './auth-state';
import { DeviceSessionView, toDeviceSessionView } from './session-views';
import { SessionsRepository } from './sessions.repository';
import { Revoker, SessionsService } from './sessions.service';

const BY_OWNER = (user: AuthenticatedUser): Revoker => ({ by: 'user', actorId: user.id, reason: 'user' });

/** A person's own sessions: list, end one, end all others. Foreign ids are "not found". */
@Injectable()
export class DevicesService {
  constructor(
    private readonly sessions: SessionsService,
    private readonly repository: SessionsRepository,
  ) {}

  async list(req: Request, user: AuthenticatedUser, query: PageQueryDto): Promise<PagedList<DeviceSessionView>> {
    const { items, total } = await this.repository.findActiveByUser(user.id, query);
    const currentId = SessionsService.currentId(req);
    return pagedList(items.map((document) => toDeviceSessionView(document, currentId)), total, query);
  }

  /** Ends one of the user's sessions; true when it was the current one. RES_3001 for anyone else's. */
  async end(req: Request, user: AuthenticatedUser, id: string): Promise<{ wasCurrent: boolean }> {
    if (!(await this.sessions.revoke(req, id, BY_OWNER(user), user.id))) throw new AppException(ErrorCode.NOT_FOUND);
    return { wasCurrent: id === SessionsService.currentId(req) };
  }

  endOthers(req: Request, user: AuthenticatedUser): Promise<number> {
    return this.sessions.revokeAllOfUser(req, user.id, BY_OWNER(user), SessionsService.currentId(req));
  }
}
