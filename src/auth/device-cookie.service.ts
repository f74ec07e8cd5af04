import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { CookieOptions, Request, Response } from 'express';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { hostOnlyCookieName } from '../config/cookie-names';
import type { AppConfiguration } from '../config/configuration';

const NONCE_BYTES = 16;
const TAG_LENGTH = 22;

/**
 * Device cookies (OWASP "Slow Down Online Guessing Attacks with Device
 * Cookies"): after a successful sign-in the browser keeps a long-lived, signed
 * cookie naming the account only by a keyed hash, plus a random device id.
 * While an account is locked by failures from untrusted clients, a sign-in
 * that shows a valid device cookie for it is still checked, against that
 * device's own small failure budget. Sign-out leaves it in place.
 */
@Injectable()
export class DeviceCookieService {
  readonly cookieName: string;
  private readonly options: CookieOptions;
  private readonly key: Buffer;

  constructor(config: ConfigService<AppConfiguration, true>) {
    const session = config.get('session', { infer: true });
    this.cookieName = hostOnlyCookieName('device', session.cookieSecure);
    this.options = {
      httpOnly: true,
      sameSite: 'lax',
      secure: session.cookieSecure,
      path: '/',
      maxAge: config.get('security', { infer: true }).deviceCookieMs,
    };
    // Own key derived from the signing secret: one secret, one purpose.
    this.key = createHmac('sha256', session.secrets[0]).update('device-cookie').digest();
  }

  /** The device id in the request's device cookie when that cookie is valid for `email`; undefined otherwise. */
  deviceFor(req: Request, email: string): string | undefined {
    const value = req.cookies?.[this.cookieName];
    if (typeof value !== 'string') return undefined;
    const [tag, nonce, signature] = value.split('.');
    if (!tag || !nonce || !signature || tag !== this.accountTag(email)) return undefined;
    const expected = Buffer.from(this.sign(`${tag}.${nonce}`));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected) ? nonce : undefined;
  }

  /** Gives the browser a device cookie for `email`, keeping its device id when it had one for this account. */
  issue(req: Request, res: Response, email: string): void {
    const nonce = this.deviceFor(req, email) ?? randomBytes(NONCE_BYTES).toString('base64url');
    const payload = `${this.accountTag(email)}.${nonce}`;
    res.cookie(this.cookieName, `${payload}.${this.sign(payload)}`, this.options);
  }

  private accountTag(email: string): string {
    return createHmac('sha256', this.key).update(email.trim().toLowerCase()).digest('base64url').slice(0, TAG_LENGTH);
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
