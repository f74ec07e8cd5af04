import { Agent, postJson } from './agents';
import { SoftwareAuthenticator } from './software-authenticator';

/** Registers `authenticator`'s passkey through the JSON API (the agent's session must be recently authenticated). */
export async function registerPasskey(agent: Agent, authenticator: SoftwareAuthenticator, name = 'Laptop') {
  const options = await postJson(agent, '/api/auth/factors/passkey/options').then((response) => response.body);
  const registered = await postJson(agent, '/api/auth/factors/passkey', { name, response: authenticator.register(options) });
  if (registered.status !== 201) throw new Error(`registering a passkey answered ${registered.status}: ${registered.text}`);
  return registered.body as { factor: { id: string; name: string; type: string }; recoveryCodes: string[] };
}

/** Proves `authenticator`'s passkey at a pair of routes (options, then the answer); the answer's response. */
export async function provePasskey(agent: Agent, authenticator: SoftwareAuthenticator, optionsPath: string, answerPath: string) {
  const options = (await postJson(agent, optionsPath)).body;
  return postJson(agent, answerPath, { response: authenticator.authenticate(options) });
}
