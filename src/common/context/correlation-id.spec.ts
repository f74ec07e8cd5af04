import { resolveCorrelationId } from './correlation-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('resolveCorrelationId', () => {
  it('keeps a well-formed incoming id', () => {
    expect(resolveCorrelationId('req-42:abc.DEF_9')).toBe('req-42:abc.DEF_9');
  });

  it.each([undefined, '', 'has space', 'new\r\nline', 'x'.repeat(129), ['a', 'b']])('replaces %j with a UUID', (incoming) => {
    expect(resolveCorrelationId(incoming as string | undefined)).toMatch(UUID);
  });
});
