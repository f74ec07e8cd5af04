import { SetMetadata } from '@nestjs/common';

export const SIGNS_OUT = 'signsOut';

/**
 * A sign-out route: when MongoDB cannot load the request's session it still
 * runs, with the session unverified, so the cookie is cleared all the same.
 * Every other route fails as the store did (SessionGuard).
 */
export const SignsOut = () => SetMetadata(SIGNS_OUT, true);
