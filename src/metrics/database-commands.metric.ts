import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { CommandStartedEvent } from 'mongodb';
import type { Connection } from 'mongoose';
import { MetricsService } from './metrics.service';

/** Counts every command the app sends to MongoDB (driver command monitoring), by command name. */
@Injectable()
export class DatabaseCommandsMetric implements OnModuleInit {
  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.connection.getClient().on('commandStarted', (event: CommandStartedEvent) => this.metrics.databaseCommand(event.commandName));
  }
}
