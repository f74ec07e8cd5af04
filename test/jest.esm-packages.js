// Chart rendering (Observable Plot, linkedom) pulls in packages published as ES modules only. Node
// requires them natively (require of ES modules); Jest cannot, so its runs compile them to CommonJS like our sources.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** Every package `roots` depend on, directly or not, that is an ES module ("type": "module"). */
function esModulePackages(roots) {
  const seen = new Set();
  const found = [];
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'node_modules', name, 'package.json'), 'utf8'));
    if (manifest.type === 'module') found.push(name);
    Object.keys(manifest.dependencies ?? {}).forEach(visit);
  };
  roots.forEach(visit);
  return found;
}

const asPattern = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

module.exports = {
  transform: {
    '^.+\\.ts$': 'ts-jest',
    '^.+\\.m?js$': ['ts-jest', { tsconfig: { allowJs: true }, isolatedModules: true }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esModulePackages(['@observablehq/plot', 'linkedom']).map(asPattern).join('|')})/)`],
};
