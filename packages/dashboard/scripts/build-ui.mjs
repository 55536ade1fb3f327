// Bundles the front end (ui/) into dist/ui/: app.js (Preact, marked, DOMPurify
// and the pages, minified) and app.css. Run by `pnpm build`, and by the tests
// before they start a server, so that a fresh clone needs no prior build.
import { build } from 'esbuild';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
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
    write: false,
  });
  // Each file replaced by a rename, and only when it changed: test files build in
  // parallel while their servers read these files, and must never see half of one.
  for (const file of result.outputFiles) {
    const current = await readFile(file.path).catch(() => null);
    if (current && Buffer.compare(current, file.contents) === 0) continue;
    await mkdir(dirname(file.path), { recursive: true });
    const tmp = `${file.path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, file.contents);
    await rename(tmp, file.path);
  }
  if (!quiet) console.log(`built ${result.outputFiles.length} files into dist/ui/`);
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildUi();
