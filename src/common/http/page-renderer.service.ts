import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CsrfService } from './csrf/csrf.service';

/** Renders a page with the request's CSRF token, which every page's forms (sign-out included) carry. */
@Injectable()
export class PageRenderer {
  constructor(private readonly csrf: CsrfService) {}

  render(req: Request, res: Response, view: string, locals: Record<string, unknown>): void {
    res.render(view, { ...locals, csrfToken: this.csrf.token(req, res) });
  }
}
