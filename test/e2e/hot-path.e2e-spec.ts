import { SESSION_READ_CACHE_MS } from '../../src/sessions/session.constants';
import { SessionExpiryPolicy } from '../../src/sessions/session-expiry-policy';
import { signIn, sleep } from '../helpers/agents';
import { watchCommands } from '../helpers/commands';
import { useTestApp } from '../helpers/test-app';
import { createUser } from '../helpers/users';

const BURST = 20;

/** What a burst of one session's requests costs the database. */
describe('the signed-in hot path under a burst', () => {
  const ctx = useTestApp({ db: 'hot_path', env: { SESSION_INACTIVITY_MINUTES: '0.1' } });

  it('reads the session once and writes its activity once, however many requests arrive together', async () => {
    expect(ctx.app.get(SessionExpiryPolicy).activityWriteIntervalMs).toBe(600);
    const agent = await signIn(ctx.app, await createUser(ctx.app));
    // Past both the read cache and the activity write interval: the burst must read and write afresh.
    await sleep(Math.max(SESSION_READ_CACHE_MS, 600) + 100);
    const commands = watchCommands(ctx.app);
    const burst = await Promise.all(Array.from({ length: BURST }, () => agent.get('/api/auth/me')));
    await sleep(100);
    commands.stop();
    expect(burst.map((response) => response.status)).toEqual(Array(BURST).fill(200));
    const seen = commands.seen();
    expect(seen.filter((command) => command === 'update sessions')).toHaveLength(1);
    // One read for the burst; requests that arrive while the activity write is under way share one more
    // (not kept: it may predate the write), and those after it one last (BURST without the sharing).
    expect(seen.filter((command) => command === 'find sessions').length).toBeLessThanOrEqual(3);
    expect(seen.filter((command) => !['update sessions', 'find sessions'].includes(command))).toEqual([]);
  });
});
