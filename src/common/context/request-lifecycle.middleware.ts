import type { NextFunction, Request, RequestHandler, Response } from 'express';
import onHeaders from 'on-headers';
import { performance } from 'node:perf_hooks';
import { ClientAddresses } from './client-address';
import { CORRELATION_ID_HEADER, resolveCorrelationId } from './correlation-id';
import { ClientFacts, RequestContext } from './request-context';

const RESPONSE_TIME_HEADER = 'X-Response-Time';

/** A request that is over: its response went out in full, or the client went away first. */
export interface FinishedRequest {
  req: Request;
  res: Response;
  /** The response was handed to the network in full ('finish'); false when the client left before. */
  delivered: boolean;
  durationMs: number;
}

/** The client as the request context gives it to services; read only when a service asks. */
class RequestClient implements ClientFacts {
  private address?: string;

  constructor(
    readonly correlationId: string,
    private readonly req: Request,
    private readonly addresses: ClientAddresses,
  ) {}

  /** Resolving the address through TRUST_PROXY costs more than most requests, which never ask for it. */
  get ip(): string {
    this.address ??= this.addresses.of(this.req);
    return this.address;
  }

  get userAgent(): string {
    return this.req.get('user-agent') ?? '';
  }
}

/** Something that follows every request from its start to its end (in-flight count, request log, metrics). */
export interface RequestObserver {
  /** As the request comes in, before any other middleware. */
  started?(req: Request, res: Response): void;
  /** Once, when the response is over. */
  ended?(request: FinishedRequest): void;
}

/**
 * First middleware of the stack. It gives the request its correlation id
 * (on every response, redirects and errors included), runs everything after
 * inside the request's context, stamps `X-Response-Time` and tells each
 * observer when the request starts and ends: one layer and one pair of
 * listeners for all of them, where there were five layers and six listeners.
 */
export function requestLifecycleMiddleware(observers: RequestObserver[]): RequestHandler {
  const starting = observers.filter((observer) => observer.started);
  const ending = observers.filter((observer) => observer.ended);
  const addresses = new ClientAddresses();
  return (req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    const correlationId = resolveCorrelationId(req.headers[CORRELATION_ID_HEADER.toLowerCase()]);
    req.correlationId = correlationId;
    res.setHeader(CORRELATION_ID_HEADER, correlationId);
    onHeaders(res, () => res.setHeader(RESPONSE_TIME_HEADER, String(Math.round(performance.now() - started))));
    for (const observer of starting) observer.started!(req, res);
    // Not `res.writableFinished`: it turns true when an answer is written to a socket the client already closed.
    let delivered = false;
    res.on('finish', () => {
      delivered = true;
    });
    res.on('close', () => {
      const finished: FinishedRequest = { req, res, delivered, durationMs: performance.now() - started };
      for (const observer of ending) observer.ended!(finished);
    });
    RequestContext.run(new RequestClient(correlationId, req, addresses), next);
  };
}
