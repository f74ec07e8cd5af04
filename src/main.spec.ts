import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

describe('the production start command', () => {
  // The memory flags are written twice (the image's CMD, and npm run start:prod for hosts without Docker).
  it('is the same in the Dockerfile and in npm run start:prod', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(cmd).toBeDefined();
    // npm runs a script through `sh -c`, which would stay between npm and node and swallow the signals npm forwards.
    expect(scripts['start:prod'].split(' ')).toEqual(['exec', ...(JSON.parse(cmd!) as string[])]);
  });
});
