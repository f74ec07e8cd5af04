import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'isPublic';

/** The route needs no session (sign-in, health, the login page). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
