import { Type } from 'class-transformer';
import { IsIn, IsInt, IsMongoId, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import { PageQueryDto } from '../../common/http/pagination';
import { ANALYTICS_RANGES, AnalyticsRange } from '../analytics.service';
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

  /** After an emergency sign-out: how many sessions it ended. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  ended?: number;

  /** After an emergency sign-out form sent without its confirmation. */
  @IsOptional()
  @IsIn(['unconfirmed'])
  endAll?: 'unconfirmed';
}

export class AdminEventsQueryDto extends PageQueryDto {
  @IsOptional()
  @IsIn(SESSION_EVENT_TYPES)
  type?: SessionEventType;

  @IsOptional()
  @IsMongoId()
  userId?: string;
}

export class AnalyticsQueryDto {
  @IsOptional()
  @IsIn(Object.keys(ANALYTICS_RANGES))
  range: AnalyticsRange = '24h';
}
