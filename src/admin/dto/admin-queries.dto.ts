import { IsIn, IsMongoId, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/http/pagination';
import { SESSION_EVENT_TYPES, SessionEventType } from '../../sessions/session-event.schema';

const MAX_SEARCH_LENGTH = 254;

export class AdminUsersQueryDto extends PageQueryDto {
  /** Email prefix. */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_SEARCH_LENGTH)
  q?: string;
}

export class AdminSessionsQueryDto extends PageQueryDto {
  @IsOptional()
  @IsMongoId()
  userId?: string;
}

export class AdminEventsQueryDto extends PageQueryDto {
  @IsOptional()
  @IsIn(SESSION_EVENT_TYPES)
  type?: SessionEventType;

  @IsOptional()
  @IsMongoId()
  userId?: string;
}
