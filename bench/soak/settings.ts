/**
 * Every figure the soak runs with, in one place: the instances'
 * configuration, the model's margins, the fault schedule and the workload's
 * mix.
 */
/** The two app instances, by index. */
export const INSTANCE_NAMES = ['A', 'B'];

/** Short lifetimes, so sessions end by inactivity and by their absolute lifetime all through the run. */
export const INACTIVITY_MINUTES = 0.3;
export const ABSOLUTE_MINUTES = 1.5;
export const SWEEP_SECONDS = 2;
export const MAX_PER_USER = 3;
export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_MAX_FAILURES_PER_IP = 50;
/** Short, so accounts locked by the wrong-password bursts open again within the run. */
export const LOCK_MINUTES = 0.2;
/** Short, so the admin re-authenticates during the run. */
export const REAUTH_MINUTES = 0.5;
/** A SIGTERMed instance is back within seconds. */
export const SHUTDOWN_DRAIN_SECONDS = 3;

export const INACTIVITY_MS = INACTIVITY_MINUTES * 60_000;
export const ABSOLUTE_MS = ABSOLUTE_MINUTES * 60_000;
/**
 * How far a stored last activity may lag the requests that counted: the contract's write interval (SPEC, Sessions:
 * at most once per 60 s and per a tenth of the idle window). From the contract, not the app's code, so a change there is caught.
 */
export const ACTIVITY_WRITE_INTERVAL_MS = Math.min(60_000, INACTIVITY_MS / 10);
/** README: other instances stop serving an ended session within 1 s (the instance that ended it, at once). */
export const END_REACHES_EVERY_INSTANCE_MS = 1_000;
/** Added to every deadline the model asserts, for timers and writes landing after their response. */
export const CLOCK_MARGIN_MS = 1_000;
/** An answer this close before a fault may have lost the activity write that follows it. */
export const ACTIVITY_WRITE_SLACK_MS = 1_000;

/** After the database is back (port open), the drivers reconnect; answers until then are the outage's. */
export const DATABASE_GRACE_MS = 5_000;
/** After a restarted instance is ready. */
export const INSTANCE_GRACE_MS = 2_000;
export const DATABASE_DOWN_SECONDS = 4;
/** A SIGKILLed instance is started again after this. */
export const KILLED_INSTANCE_RESTART_MS = 1_000;
/** When each fault starts, as a share of the run; instance faults come early so RSS is compared over long lives. */
export const FAULT_SCHEDULE = { sigterm: 0.12, sigkill: 0.24, database: [0.4, 0.7] };

export const REQUEST_TIMEOUT_MS = 15_000;
export const APP_START_TIMEOUT_MS = 60_000;
export const RSS_SAMPLE_INTERVAL_MS = 2_000;
/** RSS is the median of the samples in this last share of each half (one sample is a point on the GC's sawtooth). */
export const RSS_WINDOW_SHARE = 0.2;
export const RSS_TOLERANCE = 0.1;
/** A shorter second half says nothing about leaks (a process still warms up for a minute): figures are shown, not judged. */
export const RSS_MIN_HALF_MS = 60_000;

/** The workload: people with 1–4 browsers each (more than MAX_PER_USER for some), and one admin console. */
export const BROWSERS_PER_USER = [1, 2, 3, 4];
/** How often each browser of a person is the one used: the later ones sit idle long enough to expire. */
export const BROWSER_WEIGHTS = [0.55, 0.25, 0.13, 0.07];
/**
 * How long a person waits between actions, by four people in turn: busy people keep their main browser's
 * session until its absolute lifetime or something else ends it; slow ones leave sessions idle past
 * the inactivity timeout.
 */
export const THINK_MS = [
  { min: 300, max: 1_500 },
  { min: 2_000, max: 8_000 },
];
export const ADMIN_THINK_MS = { min: 1_500, max: 4_000 };
/** Sign-ins from a browser without a session that type a wrong password; some of them in bursts past the lockout. */
export const WRONG_PASSWORD_SHARE = 0.1;
export const WRONG_PASSWORD_BURST = { min: 1, max: 7 };
/** What a signed-in browser does next (weights). */
export const ACTIONS = {
  me: 35,
  devices: 12,
  status: 5,
  refresh: 8,
  signOut: 3,
  changePassword: 2,
  signInAgain: 2,
};
/** Offices: browsers of several people share an IP, so the per-IP counter sees them all. */
export const OFFICE_IPS = 4;
export const USER_AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
];
/** A 503 SYS_9003 or 429 without Retry-After waits this long. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;
/** At the end, every session any browser held is sent again to both instances, this many at a time. */
export const FINAL_REPLAYS_AT_ONCE = 8;
/** Ended sessions are sent again (as a thief replaying a cookie) on the instance that ended them at once, and on the other after this. */
export const PROBE_OTHER_INSTANCE_AFTER_MS = END_REACHES_EVERY_INSTANCE_MS + 100;
/** Violations listed in full per kind; the rest are counted. */
export const VIOLATIONS_LISTED_PER_KIND = 20;
/** After the load stops and the replays: long enough for the expiry pass (every SWEEP_SECONDS) to end what came due, twice. */
export const FINAL_PASS_WAIT_MS = 2 * SWEEP_SECONDS * 1000 + 1_000;
