#!/usr/bin/env node
// Entry point of the `moat` command. Runs the bundle `npm run build` makes (dist/cli/moat.mjs,
// compiled JavaScript: nothing to compile at start) when it is there and no newer than the sources
// it was built from (dist/cli/inputs.json); otherwise, as in a checkout not built since its last
// edit, the TypeScript sources through tsx. MOAT_CLI_SOURCE=1 runs the sources always.
import { readFileSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const bundle = new URL('dist/cli/moat.mjs', root);

/** Whether the bundle exists and none of its sources changed after it was built. */
function bundleCurrent() {
  try {
    const built = statSync(bundle).mtimeMs;
    const inputs = JSON.parse(readFileSync(new URL('dist/cli/inputs.json', root), 'utf8'));
    // A source deleted or renamed since (statSync throws) makes the bundle stale too.
    return inputs.every((file) => statSync(new URL(file, root)).mtimeMs <= built);
  } catch {
    return false;
  }
}

if (process.env.MOAT_CLI_SOURCE !== '1' && bundleCurrent()) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../app/cli/main.ts');
}
