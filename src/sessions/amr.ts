/**
 * How a session was proven (RFC 8176's `amr`), each method with when it was
 * last proven in it: `pwd` the password, `otp` an authenticator-app code,
 * `passkey` a WebAuthn credential, `recovery` a recovery code.
 */
export const AMR_METHODS = ['pwd', 'otp', 'passkey', 'recovery'] as const;
export type AmrMethod = (typeof AMR_METHODS)[number];

/** The methods that prove a second factor: what factor changes need once an account has one. */
export const SECOND_FACTOR_AMR: readonly AmrMethod[] = ['otp', 'passkey', 'recovery'];

export interface AmrEntry {
  method: AmrMethod;
  at: Date;
}

/** As JSON shows it. */
export interface AmrView {
  method: AmrMethod;
  at: string;
}

/** `amr` with `method` proven at `at`: one entry per method, keeping its latest proof, in the order first proven. */
export function withProof(amr: readonly AmrEntry[], method: AmrMethod, at: Date): AmrEntry[] {
  if (!amr.some((entry) => entry.method === method)) return [...amr, { method, at }];
  return amr.map((entry) =>
    entry.method === method ? { method, at: new Date(Math.max(new Date(entry.at).getTime(), at.getTime())) } : entry,
  );
}

/** When any of `methods` was last proven in the session, or undefined. */
export function lastProof(amr: readonly AmrEntry[], methods: readonly AmrMethod[]): Date | undefined {
  const times = amr.filter((entry) => methods.includes(entry.method)).map((entry) => new Date(entry.at).getTime());
  return times.length > 0 ? new Date(Math.max(...times)) : undefined;
}

/** Sessions stored before `amr` was kept were proven by the password at sign-in. */
export function amrOrPassword(amr: readonly AmrEntry[] | undefined, signedInAt: Date): AmrEntry[] {
  return amr && amr.length > 0
    ? amr.map((entry) => ({ method: entry.method, at: new Date(entry.at) }))
    : [{ method: 'pwd', at: signedInAt }];
}

export function toAmrView(amr: readonly AmrEntry[]): AmrView[] {
  return amr.map((entry) => ({ method: entry.method, at: new Date(entry.at).toISOString() }));
}
