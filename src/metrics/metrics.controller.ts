import { Controller, Get, Req, Res } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../common/decorators/public.decorator';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { AppConfiguration } from '../config/configuration';
import { mayScrapeMetrics } from './metrics-access';
import { MetricsService } from './metrics.service';

@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  private readonly token?: string;

  constructor(
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfiguration, true>,
  ) {
    this.token = config.get('security', { infer: true }).metricsToken;
  }

  /** Prometheus text format; never public (METRICS_TOKEN, or loopback only). */
  @Get()
  scrape(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<string> {
    if (!mayScrapeMetrics(req, this.token)) throw new AppException(ErrorCode.FORBIDDEN);
    res.type(this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
