import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomBytes } from 'node:crypto';
import { AppException } from '../common/errors/app.exception';
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
      if (await this.createUnlessTaken(admin.email, admin.password)) this.logger.log(`Created admin ${admin.email} from ADMIN_EMAIL`);
      return;
    }
    if (!admin.createDevelopmentAdmin || (await this.users.adminExists())) return;
    const password = randomBytes(GENERATED_PASSWORD_BYTES).toString('base64url');
    if (!(await this.createUnlessTaken(DEVELOPMENT_ADMIN_EMAIL, password))) return;
    // Shown once so a first start is usable; set ADMIN_EMAIL/ADMIN_PASSWORD to choose your own.
    this.logger.warn(`Created development admin ${DEVELOPMENT_ADMIN_EMAIL} with password ${password}`);
  }

  /** Instances booting together race to create the admin: losing that race is fine. */
  private async createUnlessTaken(email: string, password: string): Promise<boolean> {
    try {
      await this.users.create({ email, password, role: 'admin', name: 'Administrator' });
      return true;
    } catch (error) {
      if (error instanceof AppException && (error.details?.fields as Record<string, string>)?.email) return false;
      throw error;
    }
  }
}
