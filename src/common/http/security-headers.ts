import type { CorsOptions } from 'cors';
import type { HelmetOptions } from 'helmet';
import { CORRELATION_ID_HEADER } from '../context/correlation-id';

const CORS_PREFLIGHT_MAX_AGE_S = 86_400;

/** Only 'self' may load scripts, styles, connect and receive forms; nobody may frame us. */
export function helmetOptions(secureCookies: boolean): HelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        // Over plain HTTP (development) upgrading would break every sub-resource.
        upgradeInsecureRequests: secureCookies ? [] : null,
      },
    },
    strictTransportSecurity: secureCookies,
    xFrameOptions: { action: 'deny' },
    // Not helmet's `no-referrer`: with it browsers send `Origin: null` on our own
    // form posts, and the CSRF origin check could not recognise them.
    referrerPolicy: { policy: 'same-origin' },
  };
}

/** CORS for the configured origins only, with credentials; others get no Access-Control-Allow-Origin. */
export function corsOptions(allowedOrigins: string[]): CorsOptions {
  const allowed = new Set(allowedOrigins);
  return {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    maxAge: CORS_PREFLIGHT_MAX_AGE_S,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['Content-Type', 'X-CSRF-Token', CORRELATION_ID_HEADER],
    exposedHeaders: [CORRELATION_ID_HEADER, 'X-Response-Time'],
  };
}
