import { Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Server } from 'node:http';
import type { RequestObserver } from '../context/request-lifecycle.middleware';

/**
 * Graceful shutdown. On SIGTERM the instance reports itself not ready at once
 * (load balancers stop sending it traffic), answers what is still in flight
 * with `Connection: close`, and stops listening once nothing is in flight or
 * the drain time is over, whichever comes first. Only then does the app close,
 * and with it the MongoDB client, so no request loses its database mid-way.
 */
@Injectable()
export class ShutdownService implements RequestObserver {
  private readonly logger = new Logger(ShutdownService.name);
  private inFlight = 0;
  private draining = false;
  private idle?: () => void;

  get isDraining(): boolean {
    return this.draining;
  }

  /** Counts requests in flight; during the drain each response closes its connection. */
  started(_req: Request, res: Response): void {
    this.inFlight++;
    if (this.draining) res.setHeader('Connection', 'close');
  }

  ended(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.idle?.();
  }

  /** Resolves once nothing is in flight or `drainMs` has passed; the server no longer listens then. */
  async drain(server: Server, drainMs: number): Promise<void> {
    this.draining = true;
    this.logger.log(`Shutting down: not ready any more; draining ${this.inFlight} request(s) in flight (at most ${drainMs} ms)`);
    const drained = new Promise<boolean>((resolve) => {
      this.idle = () => resolve(true);
      if (this.inFlight === 0) resolve(true);
    });
    const timedOut = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), drainMs).unref());
    const finished = await Promise.race([drained, timedOut]);
    if (!finished) this.logger.warn(`Drain time over with ${this.inFlight} request(s) still in flight: closing their connections`);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    this.logger.log('Stopped listening; closing the app and its MongoDB client');
  }
}
