import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newAgent } from '../helpers/agents';
import { APP_START_TIMEOUT_MS, startTimeouts } from '../helpers/app-process';
import { useTestApp } from '../helpers/test-app';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const PRODUCTION = {
  NODE_ENV: 'production',
  SESSION_SECRET: 'k3J9x1QpL0vW7zR4mN8bT2yH6cF5dG0s',
  PUBLIC_URL: 'https://sessions.example.com',
};
/** The page, its script, and the document in both formats Nest's Swagger module serves. */
const DOCS_PATHS = ['/api/docs', '/api/docs/swagger-ui-init.js', '/api/docs-json', '/api/docs-yaml'];

/**
 * NODE_ENV reaches the app only through validateEnvironment, which the
 * test app (createTestApp) calls with these variables: production is tested in-process.
 */
describe.each([
  ['production, API_DOCS unset', PRODUCTION, false],
  ['production, API_DOCS=false', { ...PRODUCTION, API_DOCS: 'false' }, false],
  ['production, API_DOCS=true', { ...PRODUCTION, API_DOCS: 'true' }, true],
  ['development, API_DOCS unset', { NODE_ENV: 'development' }, true],
  ['development, API_DOCS=false', { NODE_ENV: 'development', API_DOCS: 'false' }, false],
])('API docs with %s', (_mode, env, served) => {
  const ctx = useTestApp({ db: 'api_docs', env });

  if (served) {
    it('serves the page and the document', async () => {
      const page = await newAgent(ctx.app).get('/api/docs').expect(200);
      expect(page.text).toContain('swagger-ui');
      const { body: document } = await newAgent(ctx.app).get('/api/docs-json').expect(200);
      expect(document.paths['/api/auth/login']).toBeDefined();
    });
  } else {
    it('answers every docs path 404 RES_3001, exactly like an unknown route, in parallel', async () => {
      const unknown = await newAgent(ctx.app).get('/api/no-such-route');
      const responses = await Promise.all(DOCS_PATHS.map((path) => newAgent(ctx.app).get(path)));
      for (const response of responses) {
        expect(response.status).toBe(unknown.status);
        expect(response.body.error.code).toBe('RES_3001');
        expect(response.text).not.toMatch(/swagger|openapi/i);
      }
      expect(unknown.status).toBe(404);
    });
  }
});

describe('API_DOCS validation at boot', () => {
  it(
    'refuses any value but true or false, naming the variable, before listening',
    async () => {
      const failure = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, ...PRODUCTION, MONGODB_URI: 'mongodb://127.0.0.1:1/unused', API_DOCS: 'yes' },
        // A process that got past validation is killed, not left behind.
        timeout: APP_START_TIMEOUT_MS,
      }).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr.trim()).toBe('Invalid configuration: API_DOCS: must be true or false');
    },
    startTimeouts(1),
  );
});
