import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
// Started inside a package (`cd packages/core && npx vitest run` or its `pnpm test`), run that
// package's tests; from the root, all of them. Paths stay relative to the root either way.
const here = relative(root, process.cwd());
const inPackage = here !== '' && !here.startsWith('..');

// Tests run on the TypeScript sources: the `baton-source` export condition
// points each workspace package at its src/ instead of its built dist/.
export default defineConfig({
  root,
  resolve: { conditions: ['baton-source'] },
  ssr: { resolve: { conditions: ['baton-source'] } },
  test: {
    include: inPackage
      ? [`${here}/test/**/*.test.ts`]
      : ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'bench/test/**/*.test.ts', 'chaos/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
