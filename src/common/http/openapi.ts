import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ERROR_CATALOGUE } from '../errors/error-codes';

export const OPENAPI_PATH = 'api/docs';

/** The one error shape of the API, with every code of the registry. */
const ERROR_RESPONSE_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'correlationId'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) },
        message: { type: 'string' },
        correlationId: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
};

const ERROR_CODES_DESCRIPTION = Object.entries(ERROR_CATALOGUE)
  .map(([code, { status, message }]) => `| ${code} | ${status} | ${message} |`)
  .join('\n');

/** Every operation can fail with the registry's error shape. */
function withErrorResponses(document: OpenAPIObject): OpenAPIObject {
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ErrorResponse: ERROR_RESPONSE_SCHEMA } };
  const error = {
    description: 'An error from the registry',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } },
  };
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path)) {
      if (operation && typeof operation === 'object' && 'responses' in operation) {
        Object.assign(operation.responses, { '4XX': error, '5XX': error });
      }
    }
  }
  return document;
}

/** OpenAPI for the JSON API at /api/docs (UI) and /api/docs-json (document). */
export function setupOpenApi(app: INestApplication, cookieName: string): void {
  const config = new DocumentBuilder()
    .setTitle('Session service')
    .setDescription(
      'Server-side sessions in MongoDB. The session cookie is the only credential; state-changing calls need ' +
        '`X-CSRF-Token` from `GET /api/auth/csrf`.\n\n| code | HTTP | meaning |\n|---|---|---|\n' +
        ERROR_CODES_DESCRIPTION,
    )
    .setVersion('1')
    .addCookieAuth(cookieName)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-CSRF-Token' }, 'csrf')
    .build();
  const document = withErrorResponses(SwaggerModule.createDocument(app, config));
  SwaggerModule.setup(OPENAPI_PATH, app, document, { jsonDocumentUrl: `${OPENAPI_PATH}-json`, customCssUrl: '/css/swagger.css' });
}
