/**
 * The ways a sign-in's second step can be completed, in the order a sign-in
 * form offers them. Here, below second-factors, because a pending session
 * stores which it allows.
 */
export const SECOND_STEP_METHODS = ['totp', 'passkey', 'recovery'] as const;
export type SecondStepMethod = (typeof SECOND_STEP_METHODS)[number];

/** How long a password-only sign-in waits for its second step. */
export const SECOND_STEP_MS = 5 * 60_000;
