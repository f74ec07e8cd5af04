import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { DatabaseCommandsMetric } from './database-commands.metric';
import { MetricsService } from './metrics.service';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, DatabaseCommandsMetric],
  exports: [MetricsService],
})
export class MetricsModule {}
