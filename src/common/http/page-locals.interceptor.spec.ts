import { CallHandler, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { lastValueFrom, of, throwError } from 'rxjs';
import { Public } from '../decorators/public.decorator';
import type { CsrfService } from './csrf/csrf.service';
import { PageLocalsInterceptor } from './page-locals.interceptor';

class Pages {
  page() {}

  @Public()
  signIn() {}
}

const USER = { id: '1', email: 'a@example.test', name: 'A', role: 'user' };
const signedIn = { state: 'active', user: USER, session: { id: 'a1' } };

function contextFor(handler: 'page' | 'signIn', auth: object) {
  const req = { auth };
  const res = { locals: Object.create(null) as Record<string, unknown> };
  const context = {
    getHandler: () => Pages.prototype[handler],
    getClass: () => Pages,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
  } as unknown as ExecutionContext;
  return { context, req, res };
}

const answering = (value: unknown): CallHandler => ({ handle: () => of(value) });
const failing = (error: unknown): CallHandler => ({ handle: () => throwError(() => error) });

describe('PageLocalsInterceptor', () => {
  let token: jest.Mock;
  let sut: PageLocalsInterceptor;
  beforeEach(() => {
    token = jest.fn(() => 'the-token');
    sut = new PageLocalsInterceptor({ token } as unknown as CsrfService, new Reflector());
  });

  it('gives a page behind the session guard the signed-in user', async () => {
    const { context, res } = contextFor('page', signedIn);
    await lastValueFrom(sut.intercept(context, answering(undefined)));
    expect(res.locals.user).toBe(USER);
  });

  it('gives a public page no user, even for a signed-in browser', async () => {
    const { context, res } = contextFor('signIn', signedIn);
    await lastValueFrom(sut.intercept(context, answering(undefined)));
    expect(res.locals).not.toHaveProperty('user');
  });

  it('makes the CSRF token only when a view reads it, for the request and response as they are then', async () => {
    const { context, req, res } = contextFor('signIn', { state: 'anonymous' });
    await lastValueFrom(sut.intercept(context, answering(undefined)));
    expect(token).not.toHaveBeenCalled();
    // Express copies res.locals into a view's options when it renders.
    expect({ ...res.locals }).toEqual({ csrfToken: 'the-token' });
    expect(token).toHaveBeenCalledWith(req, res);
  });

  it('takes both away when the handler fails, so the error page shows neither', async () => {
    const { context, res } = contextFor('page', signedIn);
    const error = new Error('not found');
    await expect(lastValueFrom(sut.intercept(context, failing(error)))).rejects.toBe(error);
    expect({ ...res.locals }).toEqual({});
    expect(token).not.toHaveBeenCalled();
  });
});
