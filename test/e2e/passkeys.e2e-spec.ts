import request from 'supertest';
import { readFileSync } from 'node:fs';
import { useTestApp } from '../helpers/test-app';

describe('passkeys', () => {
  const ctx = useTestApp({ db: 'passkeys' });

  describe('the browser library', () => {
    it('is served from the installed @simplewebauthn/browser, cached like the other static files and loading no session', async () => {
      const installed = readFileSync(
        require.resolve('@simplewebauthn/browser').replace(/script[/\\]index\.js$/, 'dist/bundle/index.umd.min.js'),
        'utf8',
      );
      const response = await request(ctx.app.getHttpServer()).get('/js/vendor/simplewebauthn-browser.js').expect(200);
      expect(response.headers['content-type']).toMatch(/^text\/javascript/);
      expect(response.headers['cache-control']).toBe('public, max-age=3600');
      expect(response.headers['set-cookie']).toBeUndefined();
      expect(response.text).toBe(installed);
      expect(response.text).toContain('SimpleWebAuthnBrowser');
    });

    it('is the only file served from a package: nothing else of node_modules is reachable', async () => {
      await request(ctx.app.getHttpServer()).get('/js/vendor/index.umd.min.js').expect(404);
      await request(ctx.app.getHttpServer()).get('/js/vendor/../../node_modules/@simplewebauthn/browser/package.json').expect(404);
    });
  });
});
