import { Global, Module } from '@nestjs/common';
import { PageRenderer } from '../page-renderer.service';
import { CsrfService } from './csrf.service';

/** CSRF tokens, and the page renderer that puts one in every view: needed by every module with a form. */
@Global()
@Module({ providers: [CsrfService, PageRenderer], exports: [CsrfService, PageRenderer] })
export class CsrfModule {}
