import { Controller, Get } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { ApiTags } from '@nestjs/swagger';
import type { Connection } from 'mongoose';
import { Public } from '../common/decorators/public.decorator';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { ShutdownService } from '../common/lifecycle/shutdown.service';
import { SERVER_SELECTION_TIMEOUT_MS } from '../database/database.constants';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly shutdown: ShutdownService,
  ) {}

  /** The process is up. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** MongoDB answers a ping; 503 SYS_9002 while it does not, and from the moment shutdown begins. */
  @Get('ready')
  async ready(): Promise<{ status: 'ok' }> {
    if (this.shutdown.isDraining) throw new AppException(ErrorCode.DEPENDENCY_UNAVAILABLE, { reason: 'shutting_down' });
    try {
      const db = this.connection.db;
      if (!db) throw new Error('not connected');
      await db.admin().ping({ timeoutMS: SERVER_SELECTION_TIMEOUT_MS });
      return { status: 'ok' };
    } catch {
      throw new AppException(ErrorCode.DEPENDENCY_UNAVAILABLE);
    }
  }
}
