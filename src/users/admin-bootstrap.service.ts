import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomBytes } from 'node:crypto';
import type { AppConfiguration } from '../config/configuration';
import { UsersService } from './users.service';

export const DEVELOPMENT_ADMIN_EMAIL = 'admin@localhost';
const GENERATED_PASSWORD_BYTES = 18;

/** Makes a first start usable: the configured admin, or outside production a generated one. */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrapService.name);

  constructor(
    private readonly users: UsersService,
    private readonly config: ConfigService<AppConfiguration, true>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.get('admin', { infer: true });
    if (admin.email && admin.password) {
      if (await this.users.emailExists(admin.email)) return;
      await this.users.create({ email: admin.email, password: admin.password, role: 'admin', name: 'Administrator' });
      this.logger.log(`Created admin ${admin.email} from ADMIN_EMAIL`);
      return;
    }
    if (!admin.createDevelopmentAdmin || (await this.users.adminExists())) return;
    const password = randomBytes(GENERATED_PASSWORD_BYTES).toString('base64url');
    await this.users.create({ email: DEVELOPMENT_ADMIN_EMAIL, password, role: 'admin', name: 'Administrator' });
    // Shown once so a first start is usable; set ADMIN_EMAIL/ADMIN_PASSWORD to choose your own.
    this.logger.warn(`Created development admin ${DEVELOPMENT_ADMIN_EMAIL} with password ${password}`);
  }
}
