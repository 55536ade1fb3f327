import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: { [ext: string]: string } = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/**
 * The built front end: `dist/ui/`, next to `dist/index.js` once built, and
 * found from `src/` too (tests run on sources; they build the UI first).
 */
export const UI_DIR = fileURLToPath(new URL('../dist/ui/', import.meta.url));

export interface Asset {
  body: Uint8Array;
  type: string;
}

/** Files are read once and kept: the whole front end is ~100 KB. */
export class Assets {
  readonly #cache = new Map<string, Promise<Asset | null>>();

  get(name: string): Promise<Asset | null> {
    // Only the flat file names the build writes: no path segments, no dot files.
    if (!/^[\w-]+(\.[\w-]+)*$/.test(name)) return Promise.resolve(null);
    let asset = this.#cache.get(name);
    if (!asset) {
      asset = readFile(UI_DIR + name).then(
        (body) => ({ body, type: TYPES[extname(name)] ?? 'application/octet-stream' }),
        () => null,
      );
      asset.then((a) => a === null && this.#cache.delete(name));
      this.#cache.set(name, asset);
    }
    return asset;
  }
}
