// Bundles the front end (ui/) into dist/ui/: app.js (Preact, marked, DOMPurify
// and the pages, minified) and app.css. Run by `pnpm build`, and by the tests
// before they start a server, so that a fresh clone needs no prior build.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export async function buildUi({ quiet = false } = {}) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: 'ui/main.tsx' },
    outdir: 'dist/ui',
    entryNames: '[name]',
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: 'linked',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'linked',
    metafile: true,
    logLevel: quiet ? 'warning' : 'info',
  });
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildUi();
