import type { ConfigService } from '@nestjs/config';
import type { AppConfiguration } from '../config/configuration';
import type { AmrEntry } from './amr';
import type { ActiveSession } from './auth-state';
import { RecentAuthPolicy } from './recent-auth.policy';

const REAUTH_MS = 5 * 60_000;
const NOW = Date.UTC(2026, 0, 1, 12);
const config = { get: () => ({ reauthMs: REAUTH_MS }) } as unknown as ConfigService<AppConfiguration, true>;

function session(amr: AmrEntry[]): ActiveSession {
  const at = new Date(Math.max(...amr.map((entry) => entry.at.getTime())));
  return { authenticatedAt: at, amr } as ActiveSession;
}
const ago = (ms: number) => new Date(NOW - ms);

describe('RecentAuthPolicy', () => {
  const sut = new RecentAuthPolicy(config);

  it('takes any recent proof for sensitive actions', () => {
    expect(() => sut.assertRecent(session([{ method: 'pwd', at: ago(REAUTH_MS) }]), NOW)).not.toThrow();
    expect(() => sut.assertRecent(session([{ method: 'pwd', at: ago(REAUTH_MS + 1) }]), NOW)).toThrow(
      expect.objectContaining({ code: 'AUTH_1009' }),
    );
  });

  it('needs a recent factor, not a recent password, for changes to the factors', () => {
    const passwordOnly = session([
      { method: 'pwd', at: ago(0) },
      { method: 'otp', at: ago(REAUTH_MS + 1) },
    ]);
    expect(() => sut.assertRecent(passwordOnly, NOW)).not.toThrow();
    expect(() => sut.assertRecentFactor(passwordOnly, NOW)).toThrow(
      expect.objectContaining({ code: 'AUTH_1009', details: { reauthUrl: '/reauth', factor: true } }),
    );
    for (const method of ['otp', 'recovery', 'passkey'] as const) {
      expect(() =>
        sut.assertRecentFactor(
          session([
            { method: 'pwd', at: ago(REAUTH_MS * 2) },
            { method, at: ago(1000) },
          ]),
          NOW,
        ),
      ).not.toThrow();
    }
  });
});
