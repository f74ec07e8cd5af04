/**
 * The ways a sign-in's second step can be completed, in the order a sign-in
 * form offers them. Here, below second-factors, because a pending session
 * stores which it allows.
 */
export const SECOND_STEP_METHODS = ['totp', 'passkey', 'recovery'] as const;
export type SecondStepMethod = (typeof SECOND_STEP_METHODS)[number];

/** How long a password-only sign-in waits for its second step. */
export const SECOND_STEP_MS = 5 * 60_000;

/**
 * What a sign-in still needs after the password: one of `methods`, or, with
 * `enrol`, a first factor (the account's role requires one and it has none).
 */
export interface SecondStep {
  methods: SecondStepMethod[];
  enrol: boolean;
}

/** A pending session's second step, as stored in it: what it allows, until when. */
export interface PendingSecondStep extends SecondStep {
  until: Date;
}
