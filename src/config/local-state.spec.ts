import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { developmentSessionSecret } from './local-state';

describe('developmentSessionSecret', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dev-secret-')), 'nested', 'session-secret');

  it('generates a long secret once and keeps it, readable by the owner only', () => {
    const first = developmentSessionSecret(file);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(developmentSessionSecret(file)).toBe(first);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
