import type { NestExpressApplication } from '@nestjs/platform-express';
import { Secret, TOTP } from 'otpauth';
import { SecondFactorsService } from '../../src/second-factors/second-factors.service';
import { Agent, csrfToken, sleep } from './agents';

const STEP_MS = 30_000;
/** How close to the end of its 30-second step a test may compute a code and still expect the app to be in the same step. */
const STEP_MARGIN_MS = 3_000;

/** The code an authenticator app shows for `secret` at `at`, computed with the library. */
export function totpCode(secret: string, at = Date.now()): string {
  return new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: at });
}

/**
 * Waits (at most a few seconds) until the current step has room left, so a
 * code computed for "now ± n steps" here is the same step offset when the
 * app checks it.
 */
export async function awayFromStepEdge(): Promise<void> {
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (left < STEP_MARGIN_MS) await sleep(left + 50);
}

export interface Enrolled {
  factorId: string;
  secret: string;
  recoveryCodes: string[];
}

/** Enrols an authenticator app through the JSON API (the agent's session must be recently authenticated). */
export async function enrolTotp(agent: Agent): Promise<Enrolled> {
  // Each token is fetched before its request: the agent attaches its cookies when a request is created.
  const startToken = await csrfToken(agent);
  const started = await agent.post('/api/auth/factors/totp').set('X-CSRF-Token', startToken).send({}).expect(201);
  const { id, secret } = started.body as { id: string; secret: string };
  await awayFromStepEdge();
  const confirmToken = await csrfToken(agent);
  const confirmed = await agent
    .post(`/api/auth/factors/totp/${id}/verify`)
    .set('X-CSRF-Token', confirmToken)
    .send({ code: totpCode(secret) })
    .expect(200);
  return { factorId: id, secret, recoveryCodes: confirmed.body.recoveryCodes };
}

/**
 * An authenticator app enrolled for `user` straight through the service,
 * confirmed with the code of time `at`: arranges an account whose last used
 * step is in the past, so codes of earlier steps of the window can be tried.
 */
export async function enrolTotpAt(app: NestExpressApplication, user: { id: string; email: string }, at: number): Promise<Enrolled> {
  const factors = app.get(SecondFactorsService);
  const { id, secret } = await factors.startTotp(user);
  const checked = await factors.checkTotpEnrolment(user.id, id, totpCode(secret, at), at);
  const { recoveryCodes } = await factors.confirmTotp(user.id, checked!);
  return { factorId: id, secret, recoveryCodes };
}
