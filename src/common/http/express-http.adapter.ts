import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Nest's Express adapter, with one change: the HTTP server creates requests
 * and responses that already have Express's prototypes. Express otherwise
 * swaps the prototype of both on every request (`Object.setPrototypeOf`),
 * and V8 then builds fresh hidden classes for every property any middleware
 * adds to them: memory and a slow store per property, every request
 * (expressjs/express#5998). With the prototype already in place the swap
 * does nothing and the objects share their shapes.
 */
export class ExpressHttpAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    // HTTPS and Nest's connection tracking are not used here (TLS ends at the proxy; shutdown drains itself).
    if (options.httpsOptions || options.forceCloseConnections) return super.initHttpServer(options);
    const app = this.getInstance<Express>();
    this.httpServer = createServer({ IncomingMessage: requestClass(app), ServerResponse: responseClass(app) }, app);
  }
}

/** Node's IncomingMessage constructor, building objects whose prototype is Express's `app.request`. */
function requestClass(app: Express): typeof IncomingMessage {
  const construct = IncomingMessage as unknown as (this: IncomingMessage, socket: Socket) => void;
  function ExpressRequest(this: IncomingMessage, socket: Socket): void {
    construct.call(this, socket);
  }
  ExpressRequest.prototype = app.request;
  return ExpressRequest as unknown as typeof IncomingMessage;
}

/** Node's ServerResponse constructor, building objects whose prototype is Express's `app.response`. */
function responseClass(app: Express): typeof ServerResponse<IncomingMessage> {
  const construct = ServerResponse as unknown as (this: ServerResponse, req: IncomingMessage, options?: object) => void;
  function ExpressResponse(this: ServerResponse, req: IncomingMessage, options?: object): void {
    construct.call(this, req, options);
  }
  ExpressResponse.prototype = app.response;
  return ExpressResponse as unknown as typeof ServerResponse<IncomingMessage>;
}
