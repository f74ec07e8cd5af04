import { SetMetadata } from '@nestjs/common';

export const SKIP_ACTIVITY = 'skipActivity';

/** The route does not count as session activity (status polling, or it records activity itself). */
export const SkipActivity = () => SetMetadata(SKIP_ACTIVITY, true);
