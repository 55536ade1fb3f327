#!/usr/bin/env node
// The built CLI (run `pnpm build` in a clone of the repository first).
import '../dist/bin.js';
