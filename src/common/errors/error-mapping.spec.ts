import { BadRequestException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { AppException } from './app.exception';
import { ErrorCode } from './error-codes';
import { mapError } from './error-mapping';

function named(name: string, message = 'driver detail'): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

describe('mapError', () => {
  it('keeps an AppException code, details and headers', () => {
    const mapped = mapError(new AppException(ErrorCode.TOO_MANY_ATTEMPTS, { retryAfter: 60 }, { 'Retry-After': '60' }));
    expect(mapped).toMatchObject({ code: 'AUTH_1006', status: 429, details: { retryAfter: 60 }, headers: { 'Retry-After': '60' } });
  });

  it('maps an unknown route to RES_3001', () => {
    expect(mapError(new NotFoundException())).toMatchObject({ code: 'RES_3001', status: 404 });
  });

  it('maps malformed JSON (a BadRequestException from the body parser) to VAL_2001', () => {
    expect(mapError(new BadRequestException('Unexpected token'))).toMatchObject({ code: 'VAL_2001', status: 400 });
  });

  it('maps an oversized body to VAL_2002, raw or wrapped', () => {
    expect(mapError(Object.assign(new Error('too large'), { type: 'entity.too.large', status: 413 }))).toMatchObject({
      code: 'VAL_2002',
      status: 413,
    });
    expect(mapError(new PayloadTooLargeException())).toMatchObject({ code: 'VAL_2002' });
  });

  it.each(['MongoServerSelectionError', 'MongoNetworkError', 'MongoNotConnectedError', 'MongoPoolClearedError'])(
    'maps %s to SYS_9002',
    (name) => {
      expect(mapError(named(name))).toMatchObject({ code: 'SYS_9002', status: 503, unexpected: true });
    },
  );

  it('finds an unavailable database behind a wrapping error', () => {
    expect(mapError(new Error('wrapped', { cause: named('MongoNetworkError') }))).toMatchObject({ code: 'SYS_9002' });
  });

  it('finds an unavailable database behind a bulk write that never reached it (its errorResponse)', () => {
    const bulk = Object.assign(named('MongoBulkWriteError'), { writeErrors: [], errorResponse: named('MongoNetworkError') });
    expect(mapError(bulk)).toMatchObject({ code: 'SYS_9002', status: 503 });
  });

  it('maps a socket the server closed mid-command (EPIPE, as the driver lets it through) to SYS_9002', () => {
    const closed = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
    expect(mapError(closed)).toMatchObject({ code: 'SYS_9002', status: 503 });
    expect(mapError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toMatchObject({ code: 'SYS_9002' });
  });

  it('hides anything else behind SYS_9001 with the registry message only', () => {
    const mapped = mapError(new TypeError('secret internal detail at /srv/app.js:1'));
    expect(mapped).toMatchObject({ code: 'SYS_9001', status: 500, unexpected: true });
    expect(mapped.message).not.toContain('secret');
  });
});
