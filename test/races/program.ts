import fc from 'fast-check';

/**
 * The command language of the race finder. A program is a few waves; the
 * commands of a wave start together (Promise.all), each on instance A or B.
 * Indices (browser, user, target) are resolved against the model when the
 * command runs, so every shrunk program still means something.
 */

/** People's browsers (b0…b2); the admin console has its own browser, `admin`. */
export const PEOPLE_BROWSERS = 3;
export type Instance = 0 | 1;

export type Command =
  | { kind: 'signIn'; on: Instance; browser: number; user: number; wrongPassword: boolean }
  | { kind: 'me'; on: Instance; browser: number }
  | { kind: 'refresh'; on: Instance; browser: number }
  | { kind: 'reauth'; on: Instance; browser: number; wrongPassword: boolean }
  | { kind: 'changePassword'; on: Instance; browser: number; wrongPassword: boolean }
  | { kind: 'setDisabled'; on: Instance; user: number; disabled: boolean }
  | { kind: 'setRole'; on: Instance; user: number; role: 'user' | 'admin' }
  | { kind: 'revokeOwn'; on: Instance; browser: number; target: number }
  | { kind: 'adminRevoke'; on: Instance; target: number }
  | { kind: 'endOthers'; on: Instance; browser: number }
  | { kind: 'emergencySignOut'; on: Instance }
  | { kind: 'signOut'; on: Instance; browser: number }
  | { kind: 'expiryPass'; on: Instance }
  | { kind: 'sleepPastIdle' }
  | { kind: 'pause'; ms: number }
  /** One person's commands one after another, beside the rest of the wave. */
  | { kind: 'inTurn'; commands: Command[] };

export interface Program {
  /** Regular users besides the one admin (user 0 is the admin). */
  users: number;
  /** Browsers signed in one after another before the waves (user indices as in `signIn`). */
  signedIn: { browser: number; user: number }[];
  waves: Command[][];
  /**
   * Milliseconds to wait before each step of the app that reads or writes a
   * session or an account (see DATABASE_STEPS), taken in turn: a scheduler
   * that widens the gaps between two writes where races live.
   */
  delays: number[];
}

const INSTANCE_NAMES = ['A', 'B'];

/** One command as a line of the counterexample. */
export function describeCommand(command: Command): string {
  const on = 'on' in command ? ` @${INSTANCE_NAMES[command.on]}` : '';
  const wrong = 'wrongPassword' in command && command.wrongPassword ? ', wrong password' : '';
  switch (command.kind) {
    case 'signIn':
      return `signIn(b${command.browser} as ${userName(command.user)}${wrong})${on}`;
    case 'me':
    case 'refresh':
    case 'endOthers':
    case 'signOut':
      return `${command.kind}(b${command.browser})${on}`;
    case 'reauth':
    case 'changePassword':
      return `${command.kind}(b${command.browser}${wrong})${on}`;
    case 'setDisabled':
      return `admin.setDisabled(user#${command.user}, ${command.disabled})${on}`;
    case 'setRole':
      return `admin.setRole(user#${command.user}, ${command.role})${on}`;
    case 'revokeOwn':
      return `revokeOwn(b${command.browser}, session#${command.target})${on}`;
    case 'adminRevoke':
      return `admin.revoke(session#${command.target})${on}`;
    case 'emergencySignOut':
      return `admin.emergencySignOut()${on}`;
    case 'expiryPass':
      return `expiryPass()${on}`;
    case 'sleepPastIdle':
      return 'sleepPastIdle()';
    case 'pause':
      return `pause(${command.ms} ms)`;
    case 'inTurn':
      return `(${command.commands.map(describeCommand).join(' ; ')})`;
  }
}

function userName(index: number): string {
  return index === 0 ? 'admin' : `user#${index}`;
}

/** The whole program, one wave per line (`‖` separates commands started together). */
export function describeProgram(program: Program): string {
  const waves = program.waves.map((wave, i) => `  wave ${i + 1}: ${wave.map(describeCommand).join('  ‖  ')}`);
  const signedIn = program.signedIn.map(({ browser, user }) => `b${browser} as ${userName(user)}`).join(', ') || 'nobody';
  const delays = `  delays before database steps, in turn: ${program.delays.join(', ')} ms`;
  return [`  users: admin + ${program.users}; signed in first: ${signedIn}`, delays, ...waves].join('\n');
}

function readable<T extends Command>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<Command> {
  return arbitrary.map((command) => ({
    ...command,
    [fc.toStringMethod](this: Command) {
      return describeCommand(this);
    },
  }));
}

const on = fc.constantFrom<Instance>(0, 1);
const browser = fc.integer({ min: 0, max: PEOPLE_BROWSERS - 1 });
/** 0 is the admin; resolved modulo the users of the program. */
const anyUser = fc.integer({ min: 0, max: 3 });
/** A regular user (never the admin, who cannot disable or demote itself). */
const regularUser = fc.integer({ min: 1, max: 3 });
/** Mostly the right password; shrinks towards it. */
const wrongPassword = fc.constantFrom(false, false, false, true);
const target = fc.nat({ max: 15 });

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 8, arbitrary: readable(fc.record({ kind: fc.constant('signIn' as const), on, browser, user: anyUser, wrongPassword })) },
  { weight: 4, arbitrary: readable(fc.record({ kind: fc.constant('me' as const), on, browser })) },
  { weight: 2, arbitrary: readable(fc.record({ kind: fc.constant('refresh' as const), on, browser })) },
  { weight: 2, arbitrary: readable(fc.record({ kind: fc.constant('reauth' as const), on, browser, wrongPassword })) },
  { weight: 3, arbitrary: readable(fc.record({ kind: fc.constant('changePassword' as const), on, browser, wrongPassword })) },
  {
    weight: 3,
    arbitrary: readable(fc.record({ kind: fc.constant('setDisabled' as const), on, user: regularUser, disabled: fc.boolean() })),
  },
  {
    weight: 2,
    arbitrary: readable(
      fc.record({ kind: fc.constant('setRole' as const), on, user: regularUser, role: fc.constantFrom('admin', 'user') }),
    ),
  },
  { weight: 3, arbitrary: readable(fc.record({ kind: fc.constant('revokeOwn' as const), on, browser, target })) },
  { weight: 2, arbitrary: readable(fc.record({ kind: fc.constant('adminRevoke' as const), on, target })) },
  { weight: 2, arbitrary: readable(fc.record({ kind: fc.constant('endOthers' as const), on, browser })) },
  { weight: 1, arbitrary: readable(fc.record({ kind: fc.constant('emergencySignOut' as const), on })) },
  { weight: 4, arbitrary: readable(fc.record({ kind: fc.constant('signOut' as const), on, browser })) },
  { weight: 2, arbitrary: readable(fc.record({ kind: fc.constant('expiryPass' as const), on })) },
  // Rare: each one costs the idle timeout in wall time.
  { weight: 1, arbitrary: readable(fc.constant({ kind: 'sleepPastIdle' as const })) },
);

/**
 * A wave aimed at one account: it signs in while an admin changes the
 * account's credentials, or signs in twice at once (the session limit), plus
 * whatever else. Random waves rarely put such writers side by side.
 */
const contendedWave: fc.Arbitrary<Command[]> = fc
  .record({
    user: regularUser,
    browsers: fc.uniqueArray(browser, { minLength: 2, maxLength: 2 }),
    ons: fc.tuple(on, on),
    change: fc.constantFrom('disable', 'demote', 'promote', 'signInAgain'),
    extra: fc.array(command, { maxLength: 2 }),
  })
  .map(({ user, browsers: [first, second], ons: [signInOn, changeOn], change, extra }) => {
    const signIn: Command = { kind: 'signIn', on: signInOn, browser: first, user, wrongPassword: false };
    const other: Command =
      change === 'disable'
        ? { kind: 'setDisabled', on: changeOn, user, disabled: true }
        : change === 'signInAgain'
          ? { kind: 'signIn', on: changeOn, browser: second, user, wrongPassword: false }
          : { kind: 'setRole', on: changeOn, user, role: change === 'promote' ? 'admin' : 'user' };
    return [signIn, other, ...extra];
  });

/**
 * A wave in which an admin changes an account's credentials while one of its
 * people signs in and at once changes the password: the sign-in may land
 * under the admin's new stamp, and the password change after the admin's
 * write but before its clean-up.
 */
const adminBesideSignInAndChange: fc.Arbitrary<Command[]> = fc
  .record({
    user: regularUser,
    browser,
    ons: fc.tuple(on, on, on),
    // How long after the admin's request the person starts: the sign-in should read the account after the admin's write.
    pause: fc.constantFrom(0, 30, 100, 300),
    // Regular users start as users: a promotion changes the role (a demotion would mostly change nothing).
    change: fc.constantFrom('disable', 'promote'),
  })
  .map(({ user, browser: person, ons: [adminOn, signInOn, changeOn], pause, change }) => [
    change === 'disable'
      ? { kind: 'setDisabled', on: adminOn, user, disabled: true }
      : { kind: 'setRole', on: adminOn, user, role: 'admin' },
    {
      kind: 'inTurn',
      commands: [
        { kind: 'pause', ms: pause },
        { kind: 'signIn', on: signInOn, browser: person, user, wrongPassword: false },
        { kind: 'changePassword', on: changeOn, browser: person, wrongPassword: false },
      ],
    },
  ]);

/**
 * Two waves: two browsers sign in to one account, then both change its
 * password at once (plus whatever else), so the losing change meets the
 * winner's new session.
 */
const contendedChange: fc.Arbitrary<Command[][]> = fc
  .record({
    user: anyUser,
    browsers: fc.uniqueArray(browser, { minLength: 2, maxLength: 2 }),
    ons: fc.tuple(on, on),
    extra: fc.array(command, { maxLength: 1 }),
  })
  .map(({ user, browsers, ons, extra }) => [
    browsers.map((index, i): Command => ({ kind: 'signIn', on: ons[i], browser: index, user, wrongPassword: false })),
    [...browsers.map((index, i): Command => ({ kind: 'changePassword', on: ons[1 - i], browser: index, wrongPassword: false })), ...extra],
  ]);

export const programs: fc.Arbitrary<Program> = fc
  .record({
    users: fc.integer({ min: 2, max: 3 }),
    // Commands of signed-in people are what races; without a start most of them would meet AUTH_1004.
    signedIn: fc.uniqueArray(fc.record({ browser, user: anyUser }), { maxLength: PEOPLE_BROWSERS, selector: (entry) => entry.browser }),
    waves: fc
      .array(
        fc.oneof(
          { weight: 3, arbitrary: fc.array(command, { minLength: 1, maxLength: 4 }).map((wave) => [wave]) },
          { weight: 1, arbitrary: contendedWave.map((wave) => [wave]) },
          { weight: 1, arbitrary: contendedChange },
          { weight: 1, arbitrary: adminBesideSignInAndChange.map((wave) => [wave]) },
        ),
        { minLength: 1, maxLength: 4 },
      )
      .map((groups) => groups.flat()),
    // Mostly none; shrinks towards none.
    delays: fc.array(fc.constantFrom(0, 0, 0, 5, 60), { minLength: 2, maxLength: 8 }),
  })
  .map(({ users, signedIn, waves, delays }) => ({
    users,
    delays,
    signedIn: signedIn.map((entry) => ({ ...entry, user: entry.user % (users + 1) })),
    // User indices resolved against this program's users, so the counterexample names who is meant.
    waves: waves.map((wave) => wave.map((command) => resolveUsers(command, users))),
    [fc.toStringMethod](this: Program) {
      return `\n${describeProgram(this)}\n`;
    },
  }));

function resolveUsers(command: Command, users: number): Command {
  if (command.kind === 'signIn') return { ...command, user: command.user % (users + 1) };
  if (command.kind === 'setDisabled' || command.kind === 'setRole') return { ...command, user: 1 + ((command.user - 1) % users) };
  if (command.kind === 'inTurn') return { ...command, commands: command.commands.map((each) => resolveUsers(each, users)) };
  return command;
}
