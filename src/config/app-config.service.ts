import { ConfigService } from '@nestjs/config';
import { AppConfiguration } from './configuration';

/** ConfigService typed for this app: `config.get('session', { infer: true })`. */
export type AppConfigService = ConfigService<AppConfiguration, true>;
