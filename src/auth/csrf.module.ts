import { Global, Module } from '@nestjs/common';
import { CsrfService } from './csrf.service';

/** CSRF tokens are needed by every page with a form, whatever its module. */
@Global()
@Module({ providers: [CsrfService], exports: [CsrfService] })
export class CsrfModule {}
