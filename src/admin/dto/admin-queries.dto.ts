import { Type } from 'class-transformer';
import { IsIn, IsInt, IsMongoId, IsString, MaxLength, Min } from 'class-validator';
import { MayBeAbsent } from '../../common/validation/may-be-absent.decorator';
import { PageQueryDto } from '../../common/http/pagination';
import { ANALYTICS_RANGES, AnalyticsRange } from '../analytics.service';
import { SESSION_EVENT_TYPES, SessionEventType } from '../../session-events/session-event.schema';

const MAX_SEARCH_LENGTH = 254;

export class AdminUsersQueryDto extends PageQueryDto {
  /** Email prefix. */
  @MayBeAbsent()
  @IsString()
  @MaxLength(MAX_SEARCH_LENGTH)
  q?: string;
}

export class AdminSessionsQueryDto extends PageQueryDto {
  @MayBeAbsent()
  @IsMongoId()
  userId?: string;

  /** After an emergency sign-out: how many sessions it ended. */
  @MayBeAbsent()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  ended?: number;

  /** After an emergency sign-out form sent without its confirmation. */
  @MayBeAbsent()
  @IsIn(['unconfirmed'])
  endAll?: 'unconfirmed';
}

export class AdminEventsQueryDto extends PageQueryDto {
  @MayBeAbsent()
  @IsIn(SESSION_EVENT_TYPES)
  type?: SessionEventType;

  @MayBeAbsent()
  @IsMongoId()
  userId?: string;
}

export class AnalyticsQueryDto {
  @MayBeAbsent()
  @IsIn(Object.keys(ANALYTICS_RANGES))
  range: AnalyticsRange = '24h';
}
