import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule, AppModuleOptions } from './app.module';
import { requestLifecycleMiddleware } from './common/context/request-lifecycle.middleware';
import { ShutdownService } from './common/lifecycle/shutdown.service';
import { bodyParsersMiddleware } from './common/http/body-parsers.middleware';
import { ExpressHttpAdapter } from './common/http/express-http.adapter';
import { noStoreMiddleware } from './common/http/no-store.middleware';
import { setupOpenApi } from './common/http/openapi';
import { staticFilesMiddleware } from './common/http/static-files.middleware';
import { stringCookiesMiddleware } from './common/http/string-cookies.middleware';
import { helmetOptions } from './common/http/security-headers';
import { corsMiddleware, securityHeadersMiddleware } from './common/http/security-headers.middleware';
import { configureViews, PUBLIC_DIR } from './common/http/views';
import { requestLogObserver } from './common/logging/request-log.observer';
import { httpMetricsObserver } from './metrics/http-metrics.observer';
import { MetricsService } from './metrics/metrics.service';
import { ROOT_LOGGER } from './common/logging/logging.module';
import type { AppConfigService } from './config/app-config.service';
import { ConfigService } from '@nestjs/config';
import { createExpressSession } from './session-http/express-session.factory';
import { SESSION_STORE } from './sessions/session.constants';
import { SessionHttpAdapter } from './session-http/session-http.adapter';
import { SessionStateMiddleware } from './session-http/session-state.middleware';

/** Request bodies above this are refused with VAL_2002. */
export const BODY_LIMIT = '100kb';
/**
 * JSON nested deeper than this is refused with VAL_2001. Our bodies are flat
 * (level 1); a WebAuthn credential response, which passkeys would post, is 4
 * levels. 32 leaves ample margin and is qs's own default depth for forms.
 */
export const BODY_MAX_DEPTH = 32;

/** Nest options shared by main.ts and the tests (with an ExpressHttpAdapter): bodies are parsed by configureApp, in order. */
export const NEST_APP_OPTIONS = { bufferLogs: true, bodyParser: false } as const;

/**
 * The whole HTTP pipeline, in the order a request meets it. main.ts and the
 * tests both call this, so tests exercise the real middleware stack.
 */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  const config = app.get<AppConfigService>(ConfigService);
  const http = config.get('http', { infer: true });
  const session = config.get('session', { infer: true });

  app.useLogger(app.get(Logger));
  app.set('trust proxy', http.trustProxy);
  // Flat query strings (Express 5's default, pinned): `?a[b]=1` is the key `a[b]`, never an object, so no query nests.
  app.set('query parser', 'simple');
  app.disable('x-powered-by');
  // Dynamic responses are no-store, so an ETag (a SHA-1 of every body) could never be used; static files keep theirs.
  app.disable('etag');

  app.use(
    requestLifecycleMiddleware([
      app.get(ShutdownService),
      requestLogObserver(app.get(ROOT_LOGGER)),
      httpMetricsObserver(app.get(MetricsService), http.corsOrigins),
    ]),
  );
  app.use(securityHeadersMiddleware(helmetOptions(session.cookieSecure)));
  app.use(corsMiddleware(http.corsOrigins));
  app.use(staticFilesMiddleware(PUBLIC_DIR));
  app.use(noStoreMiddleware);
  app.use(bodyParsersMiddleware({ limit: BODY_LIMIT, maxDepth: BODY_MAX_DEPTH }));
  app.use(stringCookiesMiddleware);
  app.use(createExpressSession(app.get(SESSION_STORE), session, app.get(SessionHttpAdapter)));
  const sessionState = app.get(SessionStateMiddleware);
  app.use(sessionState.use.bind(sessionState));

  configureViews(app);
  if (http.apiDocs) setupOpenApi(app, session.cookieName);
  return app;
}

export async function createApp(options: AppModuleOptions): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), new ExpressHttpAdapter(), NEST_APP_OPTIONS);
  return configureApp(app);
}
