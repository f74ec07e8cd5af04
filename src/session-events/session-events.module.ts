import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { SessionEvent, SessionEventSchema } from './session-event.schema';
import { SessionEventQueries } from './session-event-queries.service';
import { SessionEventsRepository } from './session-events.repository';
import { SessionEventsService } from './session-events.service';
import { SessionStats } from './session-stats.service';
import { SessionStatsRepository } from './session-stats.repository';

/** The audit log (`session_events`) and the active-session samples (`session_stats`); its repositories stay inside. */
@Module({
  imports: [MongooseModule.forFeature([{ name: SessionEvent.name, schema: SessionEventSchema }])],
  providers: [SessionEventsRepository, SessionStatsRepository, SessionEventsService, SessionEventQueries, SessionStats],
  exports: [SessionEventsService, SessionEventQueries, SessionStats],
})
export class SessionEventsModule {}
