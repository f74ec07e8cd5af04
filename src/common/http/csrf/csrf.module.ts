import { Global, Module } from '@nestjs/common';
import { CsrfService } from './csrf.service';

/** CSRF tokens: needed by every module with a form (pages read theirs through PageLocalsInterceptor). */
@Global()
@Module({ providers: [CsrfService], exports: [CsrfService] })
export class CsrfModule {}
