import { RequestContext } from './request-context';

const client = (correlationId: string) => ({ correlationId, ip: '203.0.113.9', userAgent: 'Firefox' });

describe('RequestContext', () => {
  it('gives correlation id, user id and elapsed time anywhere inside a request, across awaits', async () => {
    await RequestContext.run(client('corr-1'), async () => {
      RequestContext.setUserId('user-1');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(RequestContext.correlationId()).toBe('corr-1');
      expect(RequestContext.client()).toEqual({ correlationId: 'corr-1', ip: '203.0.113.9', userAgent: 'Firefox' });
      expect(RequestContext.userId()).toBe('user-1');
      expect(RequestContext.elapsedMs()).toBeGreaterThanOrEqual(15);
    });
  });

  it('keeps concurrent requests apart and is empty outside one', async () => {
    const seen: string[] = [];
    await Promise.all(
      ['a', 'b'].map((id) =>
        RequestContext.run(client(id), async () => {
          await new Promise((resolve) => setTimeout(resolve, id === 'a' ? 20 : 5));
          seen.push(`${id}:${RequestContext.correlationId()}`);
        }),
      ),
    );
    expect(seen.sort()).toEqual(['a:a', 'b:b']);
    expect(RequestContext.correlationId()).toBeUndefined();
    expect(RequestContext.elapsedMs()).toBeUndefined();
    expect(RequestContext.client()).toEqual({ correlationId: '', ip: '', userAgent: '' });
  });

  it('keeps at most 512 characters of a user agent', () => {
    RequestContext.run({ ...client('long'), userAgent: 'x'.repeat(5_000) }, () => {
      expect(RequestContext.client().userAgent).toHaveLength(512);
    });
  });
});
