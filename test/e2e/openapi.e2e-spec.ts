import { ERROR_CATALOGUE } from '../../src/common/errors/error-codes';
import { newAgent } from '../helpers/agents';
import { useTestApp } from '../helpers/test-app';

describe('OpenAPI document', () => {
  const ctx = useTestApp({ db: 'openapi' });

  it('describes the JSON API with cookie auth and the registry’s error schema, and no pages', async () => {
    const { body: document } = await newAgent(ctx.app).get('/api/docs-json').expect(200);
    const paths = Object.keys(document.paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/auth/login',
        '/api/auth/me',
        '/api/sessions/{id}',
        '/api/admin/users/{id}',
        '/api/admin/events',
        '/health/ready',
      ]),
    );
    expect(paths.filter((path) => !path.startsWith('/api/') && !path.startsWith('/health/'))).toEqual([]);
    expect(document.components.securitySchemes.cookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'session_token' });
    expect(document.components.schemas.ErrorResponse.properties.error.properties.code.enum.sort()).toEqual(
      Object.keys(ERROR_CATALOGUE).sort(),
    );
    expect(document.paths['/api/auth/me'].get.responses['4XX'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/ErrorResponse',
    );
  });

  it('serves the documentation page under the strict CSP', async () => {
    const page = await newAgent(ctx.app).get('/api/docs').expect(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.text).toContain('swagger-ui');
  });
});
