import type { NestExpressApplication } from '@nestjs/platform-express';
import type { CommandStartedEvent } from 'mongodb';
import { connectionOf } from './test-app';

/** Reads and writes of documents; not the driver's handshakes, pings or the background counts. */
const DATA_COMMANDS = new Set(['find', 'insert', 'update', 'delete', 'findAndModify']);

/**
 * A sweep deletes by date, or a batch of `_id`s (`$in`), never one `_id`: it
 * runs on a timer, not for the request being counted.
 */
function isSweep(event: CommandStartedEvent): boolean {
  const deletes = (event.command as { deletes?: { q: Record<string, unknown> }[] }).deletes;
  const byOneId = (q: Record<string, unknown>) => q._id !== undefined && !(typeof q._id === 'object' && q._id !== null && '$in' in q._id);
  return event.commandName === 'delete' && deletes !== undefined && deletes.every(({ q }) => !byOneId(q));
}

export interface CommandLog {
  /** `"<command> <collection>"` for each data command seen so far. */
  seen(): string[];
  /** The commands themselves, as sent. */
  commands(): Record<string, unknown>[];
  stop(): void;
}

/** Watches the app's own MongoDB client with the driver's command monitoring. */
export function watchCommands(app: NestExpressApplication): CommandLog {
  const client = connectionOf(app).getClient();
  const events: CommandStartedEvent[] = [];
  const listener = (event: CommandStartedEvent) => {
    if (DATA_COMMANDS.has(event.commandName) && !isSweep(event)) events.push(event);
  };
  client.on('commandStarted', listener);
  return {
    seen: () => events.map((event) => `${event.commandName} ${String((event.command as Record<string, unknown>)[event.commandName])}`),
    commands: () => events.map((event) => event.command as Record<string, unknown>),
    stop: () => void client.off('commandStarted', listener),
  };
}
