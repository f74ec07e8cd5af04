import { AdminTimeFormat } from './admin-time';

describe('AdminTimeFormat', () => {
  const now = new Date('2026-11-30T12:00:00.000Z');

  it('shows a moment as weekday, day, month and time in its zone', () => {
    const sut = new AdminTimeFormat('Europe/Paris');
    expect(sut.dateTime('2026-11-30T13:00:00.000Z', now)).toBe('Mon 30 Nov 14:00');
    expect(sut.dateTime(new Date('2026-11-29T23:30:00.000Z'), now)).toBe('Mon 30 Nov 00:30');
  });

  it('adds the year to a moment of another year', () => {
    expect(new AdminTimeFormat('UTC').dateTime('2025-03-02T08:05:00.000Z', now)).toBe('Sun 2 Mar 2025 08:05');
  });

  it('shows nothing for a value that is no time', () => {
    expect(new AdminTimeFormat('UTC').dateTime('not a time', now)).toBe('');
  });
});
